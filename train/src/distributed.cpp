// Data-parallel training on c10d: TCPStore rendezvous, ProcessGroupGloo, bucketed gradient all-reduce.
#include "gengap/train/distributed.hpp"

#include <chrono>
#include <cstring>
#include <sstream>
#include <string>

#include <torch/torch.h>
#include <torch/csrc/utils/tensor_flatten.h>

#if GENGAP_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "gengap/core/error.hpp"
#endif

namespace gengap::train {
namespace {

std::string seconds_text(double s) {
  std::ostringstream os;
  os << s << " s";
  return os.str();
}

/// The first line of an exception's text (c10::Error appends a C++ backtrace).
std::string first_line(const std::exception& e) {
  std::string w = e.what();
  const auto nl = w.find('\n');
  return nl == std::string::npos ? w : w.substr(0, nl);
}

}  // namespace

#if GENGAP_HAVE_GLOO

bool distributed_available() { return true; }

struct Communicator::Impl {
  DistOptions opt;
  std::string backend;
  c10::intrusive_ptr<c10d::Store> store;
  // The concrete class: LibTorch 1.13 derives it from ProcessGroup, 2.x from Backend; its own
  // collectives have the same signatures in both.
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout{60000};

  [[noreturn]] void fail(const std::string& what, const std::exception& e) const {
    throw DistributedError("rank " + std::to_string(opt.rank) + " of " + std::to_string(opt.world_size) + ": " + what + " (" +
                           first_line(e) + ")");
  }
  void wait(const c10::intrusive_ptr<c10d::Work>& w, const char* what) const {
    try {
      w->wait(timeout);
    } catch (const std::exception& e) {
      fail(std::string(what) + " failed: a worker stopped or did not answer within " + seconds_text(opt.timeout_seconds), e);
    }
  }
};

Communicator::Communicator(const DistOptions& o, const torch::Device& device) : impl_(std::make_unique<Impl>()) {
  if (o.world_size < 1) throw core::InputError("world_size = " + std::to_string(o.world_size) + ": must be >= 1");
  if (o.rank < 0 || o.rank >= o.world_size)
    throw core::InputError("rank = " + std::to_string(o.rank) + ": must lie in [0, world_size = " + std::to_string(o.world_size) + ")");
  if (o.master_port < 1 || o.master_port > 65535)
    throw core::InputError("master_port = " + std::to_string(o.master_port) + ": must lie in [1, 65535]");
  if (!(o.timeout_seconds > 0)) throw core::InputError("dist_timeout = " + std::to_string(o.timeout_seconds) + ": must be > 0");
  Impl& s = *impl_;
  s.opt = o;
  s.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_seconds * 1000));
  if (o.backend != "auto" && o.backend != "gloo" && o.backend != "nccl")
    throw core::InputError("backend = " + o.backend + ": must be auto, gloo or nccl");
  if (o.backend == "nccl")
    throw DistributedError("backend = nccl: ProcessGroupNCCL is not wired into gengap yet; use gloo (it also reduces " +
                           std::string(device.is_cuda() ? "CUDA tensors in CUDA builds of LibTorch)" : "CPU tensors)"));
  s.backend = "gloo";  // auto: Gloo on every device
  const std::string where = o.master_addr + ":" + std::to_string(o.master_port);
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.master_port);
  so.isServer = o.rank == 0;
  so.numWorkers = static_cast<std::size_t>(o.world_size);
  so.waitWorkers = true;
  so.timeout = s.timeout;
  try {
    s.store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    const std::string w = e.what();
    if (o.rank == 0 && (w.find("in use") != std::string::npos || w.find("EADDRINUSE") != std::string::npos ||
                        w.find("bind") != std::string::npos))
      s.fail("rendezvous: cannot listen on " + where + ": the port is taken; choose another --master-port", e);
    if (o.rank == 0)
      s.fail("rendezvous: rank 0 listening on " + where + " did not see all " + std::to_string(o.world_size) +
                 " workers within " + seconds_text(o.timeout_seconds) + " (wrong --world-size, or workers missing)",
             e);
    s.fail("rendezvous: cannot reach rank 0 at " + where + " within " + seconds_text(o.timeout_seconds) +
               " (wrong --master-addr/--master-port, or rank 0 not started)",
           e);
  }
  // Every worker must agree on the world size (a worker started with another size would hang).
  try {
    const std::string mine = std::to_string(o.world_size);
    if (o.rank == 0) {
      s.store->set("gengap/world_size", std::vector<uint8_t>(mine.begin(), mine.end()));
    } else {
      const std::vector<uint8_t> v = s.store->get("gengap/world_size");
      const std::string theirs(v.begin(), v.end());
      if (theirs != mine)
        throw DistributedError("rank " + std::to_string(o.rank) + ": world size " + mine + " disagrees with rank 0's " + theirs +
                               "; start every worker with the same --world-size");
    }
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    s.fail("rendezvous: the store did not answer within " + seconds_text(o.timeout_seconds), e);
  }
  try {
    auto go = c10d::ProcessGroupGloo::Options::create(s.timeout);
    const bool loopback = o.master_addr == "localhost" || o.master_addr.rfind("127.", 0) == 0;
    go->devices.push_back(loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                   : c10d::ProcessGroupGloo::createDefaultDevice());
    go->threads = 2;
    s.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, o.rank, o.world_size, go);
  } catch (const std::exception& e) {
    s.fail("rendezvous: the Gloo process group could not connect all " + std::to_string(o.world_size) + " workers within " +
               seconds_text(o.timeout_seconds) + " (a worker is missing, or was started with another --world-size)",
           e);
  }
}

Communicator::~Communicator() = default;
int Communicator::rank() const noexcept { return impl_->opt.rank; }
int Communicator::world_size() const noexcept { return impl_->opt.world_size; }
const std::string& Communicator::backend() const noexcept { return impl_->backend; }

void Communicator::broadcast(std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return;
  std::vector<torch::Tensor> flat{torch::utils::flatten_dense_tensors(tensors)};
  c10d::BroadcastOptions bo;
  bo.rootRank = 0;
  impl_->wait(impl_->pg->broadcast(flat, bo), "broadcast");
  const auto parts = torch::utils::unflatten_dense_tensors(flat[0], tensors);
  torch::NoGradGuard ng;
  for (std::size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(parts[i]);
}

void Communicator::allreduce_mean(std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> fl;
  for (const auto& t : tensors)
    if (t.defined() && t.is_floating_point()) fl.push_back(t);
  if (fl.empty()) return;
  std::vector<torch::Tensor> flat{torch::utils::flatten_dense_tensors(fl)};
  impl_->wait(impl_->pg->allreduce(flat), "all-reduce");
  flat[0].div_(impl_->opt.world_size);
  const auto parts = torch::utils::unflatten_dense_tensors(flat[0], fl);
  torch::NoGradGuard ng;
  for (std::size_t i = 0; i < fl.size(); ++i) fl[i].copy_(parts[i]);
}

double Communicator::allreduce_mean(double value) {
  std::vector<torch::Tensor> t{torch::full({1}, value, torch::kDouble)};
  impl_->wait(impl_->pg->allreduce(t), "all-reduce");
  return t[0].item<double>() / impl_->opt.world_size;
}

void Communicator::barrier(double timeout_seconds) {
  c10d::BarrierOptions bo;
  const double t = timeout_seconds > 0 ? timeout_seconds : impl_->opt.timeout_seconds;
  bo.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(t * 1000));
  try {
    impl_->pg->barrier(bo)->wait(bo.timeout);
  } catch (const std::exception& e) {
    impl_->fail("barrier failed: a worker stopped or did not answer within " + seconds_text(t), e);
  }
}

// ------------------------------------------------------------------------------------------------

struct GradientAllReduce::Impl {
  struct Bucket {
    std::vector<std::size_t> params;   // indices into `params`
    std::vector<std::int64_t> offset;  // element offsets in `flat`
    torch::Tensor flat;
    std::size_t remaining = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };
  Communicator::Impl* comm = nullptr;
  std::vector<torch::Tensor> params;
  std::vector<unsigned> hooks;
  std::vector<Bucket> buckets;
  std::vector<std::pair<std::size_t, std::size_t>> where;  // param -> (bucket, slot)
  std::size_t next_launch = 0;
  torch::Tensor local_sq;  // this worker's |g|^2 of the last backward (undefined before the first bucket)

  void launch_ready() {
    // Buckets start strictly in order, so that every worker issues the same sequence of collectives.
    while (next_launch < buckets.size() && buckets[next_launch].remaining == 0) {
      {
        torch::NoGradGuard ng;
        const torch::Tensor sq = buckets[next_launch].flat.to(torch::kDouble).square().sum();
        local_sq = local_sq.defined() ? local_sq + sq : sq;
      }
      std::vector<torch::Tensor> t{buckets[next_launch].flat};
      buckets[next_launch].work = comm->pg->allreduce(t);
      ++next_launch;
    }
  }
};

GradientAllReduce::GradientAllReduce(std::vector<torch::Tensor> params, Communicator& comm, std::int64_t bucket_bytes)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.comm = comm.impl_.get();
  s.params = std::move(params);
  s.where.resize(s.params.size());
  // Reverse order: backward produces the last layers' gradients first.
  std::int64_t bytes = 0;
  for (std::size_t k = s.params.size(); k-- > 0;) {
    const torch::Tensor& p = s.params[k];
    if (s.buckets.empty() || bytes >= bucket_bytes ||
        p.scalar_type() != s.params[s.buckets.back().params.front()].scalar_type()) {
      s.buckets.emplace_back();
      bytes = 0;
    }
    auto& b = s.buckets.back();
    b.offset.push_back(b.params.empty() ? 0 : b.offset.back() + s.params[b.params.back()].numel());
    s.where[k] = {s.buckets.size() - 1, b.params.size()};
    b.params.push_back(k);
    bytes += p.numel() * static_cast<std::int64_t>(p.element_size());
  }
  for (auto& b : s.buckets) {
    const torch::Tensor& last = s.params[b.params.back()];
    b.flat = torch::zeros({b.offset.back() + last.numel()}, last.options().requires_grad(false));
  }
  for (std::size_t k = 0; k < s.params.size(); ++k) {
    Impl* self = impl_.get();
    s.hooks.push_back(s.params[k].register_hook([self, k](const torch::Tensor& grad) {
      const auto [bi, slot] = self->where[k];
      auto& b = self->buckets[bi];
      b.flat.narrow(0, b.offset[slot], grad.numel()).copy_(grad.reshape(-1));
      if (--b.remaining == 0) self->launch_ready();
    }));
  }
}

GradientAllReduce::~GradientAllReduce() {
  // No exception leaves a destructor: a hook that cannot be removed is left to the parameter.
  for (std::size_t k = 0; k < impl_->params.size(); ++k) {
    try {
      impl_->params[k].remove_hook(impl_->hooks[k]);
    } catch (...) {
    }
  }
}

void GradientAllReduce::prepare() {
  impl_->local_sq = torch::Tensor();
  for (auto& b : impl_->buckets) {
    b.remaining = b.params.size();
    b.work.reset();
  }
  impl_->next_launch = 0;
}

double GradientAllReduce::finish() {
  Impl& s = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  if (s.next_launch < s.buckets.size())
    throw std::logic_error("GradientAllReduce: a parameter received no gradient in this backward pass (every parameter must be used)");
  const double n = s.comm->opt.world_size;
  torch::NoGradGuard ng;
  for (auto& b : s.buckets) {
    s.comm->wait(b.work, "gradient all-reduce");
    b.flat.div_(n);
    for (std::size_t j = 0; j < b.params.size(); ++j) {
      torch::Tensor& p = s.params[b.params[j]];
      p.mutable_grad().copy_(b.flat.narrow(0, b.offset[j], p.numel()).view_as(p));
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::size_t GradientAllReduce::buckets() const noexcept { return impl_->buckets.size(); }
double GradientAllReduce::local_grad_sq() const { return impl_->local_sq.defined() ? impl_->local_sq.item<double>() : 0.0; }

#else  // no c10d with Gloo in this build

bool distributed_available() { return false; }
struct Communicator::Impl {};
struct GradientAllReduce::Impl {};
[[noreturn]] static void no_dist() {
  throw DistributedError("this build of gengap has no distributed support: LibTorch's c10d with Gloo was not found at "
                         "configure time (Debian: apt-get install libgloo-dev, then reconfigure)");
}
Communicator::Communicator(const DistOptions&, const torch::Device&) { no_dist(); }
Communicator::~Communicator() = default;
int Communicator::rank() const noexcept { return 0; }
int Communicator::world_size() const noexcept { return 1; }
const std::string& Communicator::backend() const noexcept {
  static const std::string none = "none";
  return none;
}
void Communicator::broadcast(std::vector<torch::Tensor>&) { no_dist(); }
void Communicator::allreduce_mean(std::vector<torch::Tensor>&) { no_dist(); }
double Communicator::allreduce_mean(double) { no_dist(); }
void Communicator::barrier(double) { no_dist(); }
GradientAllReduce::GradientAllReduce(std::vector<torch::Tensor>, Communicator&, std::int64_t) { no_dist(); }
GradientAllReduce::~GradientAllReduce() = default;
void GradientAllReduce::prepare() {}
double GradientAllReduce::finish() { return 0; }
std::size_t GradientAllReduce::buckets() const noexcept { return 0; }
double GradientAllReduce::local_grad_sq() const { return 0; }

#endif

}  // namespace gengap::train
