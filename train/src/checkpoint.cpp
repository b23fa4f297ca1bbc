// Checkpoints as bytes: saved in memory, loaded with every part checked.
#include "gengap/train/checkpoint.hpp"

#include <sstream>

#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/serialize/output-archive.h>

#include "gengap/core/error.hpp"
#include "gengap/core/hash.hpp"
#include "gengap/core/json.hpp"

namespace gengap::train {
using nlohmann::json;

namespace {

/// The first line of an exception's message, without LibTorch's backtrace.
std::string first_line(const std::exception& e) {
  const auto* c = dynamic_cast<const c10::Error*>(&e);
  std::string m = c != nullptr ? c->what_without_backtrace() : e.what();
  const auto nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  return core::printable(m, 200);
}

[[noreturn]] void bad(const std::string& file, const std::string& why) { throw core::InvalidArgument("checkpoint", file, why); }

void check_rows(const json& rows, const char* what, std::initializer_list<const char*> numbers, const std::string& file) {
  if (!rows.is_array()) bad(file, std::string("its state has no list of ") + what);
  for (const auto& r : rows) {
    if (!r.is_object()) bad(file, std::string("a row of its ") + what + " is not an object");
    for (const char* k : numbers)
      if (!r.contains(k) || !r.at(k).is_number()) bad(file, std::string("a row of its ") + what + " has no number \"" + k + "\"");
  }
}

constexpr char kMagic[] = "GENGAPCK";
constexpr std::size_t kHeader = 24;  // magic, length, hash

void put64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get64(const std::string& b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

std::string checkpoint_bytes_with_state(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                                        const std::map<std::string, torch::Tensor>& w0, const std::string& state_text) {
  torch::serialize::OutputArchive a, ma, oa, wa;
  model.save(ma);
  optimizer.save(oa);
  for (const auto& [name, t] : w0) wa.write(name, t);
  a.write("model", ma);
  a.write("optimizer", oa);
  a.write("w0", wa);
  a.write("state", c10::IValue(state_text));
  a.write("rng", at::detail::getDefaultCPUGenerator().get_state());
  std::ostringstream os;
  a.save_to(os);
  const std::string payload = os.str();
  std::string out(kMagic, 8);
  put64(out, payload.size());
  put64(out, core::fnv1a64(payload));
  return out + payload;
}

std::string checkpoint_bytes(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                             const std::map<std::string, torch::Tensor>& w0, const CheckpointState& st) {
  const json sj = {{"format", "gengap-checkpoint-1"}, {"iteration", st.iteration}, {"epoch", st.epoch},
                   {"probe0", st.probe0},             {"metrics", st.metrics},     {"distances", st.distances},
                   {"world_size", st.world_size},     {"config", st.config},       {"clipped", st.clipped},
                   {"probe_test0", st.probe_test0},   {"noise", st.noise}};
  return checkpoint_bytes_with_state(model, optimizer, w0, sj.dump());
}

bool checkpoint_intact(const std::string& b) {
  return b.size() >= kHeader && b.compare(0, 8, kMagic, 8) == 0 && get64(b, 8) == b.size() - kHeader &&
         get64(b, 16) == core::fnv1a64(std::string_view(b).substr(kHeader));
}

Checkpoint::Checkpoint(const std::string& bytes, const std::string& file, const torch::Device& device) : file_(file) {
  if (bytes.empty()) bad(file, "is empty (an interrupted write of an old gengap?); start afresh without --resume or in another out_dir");
  if (bytes.size() < kHeader || bytes.compare(0, 8, kMagic, 8) != 0)
    bad(file, "is not a gengap checkpoint (no GENGAPCK header; written by another program or an older gengap)");
  if (get64(bytes, 8) != bytes.size() - kHeader)
    bad(file, "is truncated or extended: " + std::to_string(bytes.size() - kHeader) + " bytes of archive, the header says " +
                  std::to_string(get64(bytes, 8)));
  if (get64(bytes, 16) != core::fnv1a64(std::string_view(bytes).substr(kHeader)))
    bad(file, "is corrupt: its checksum does not match its content");
  std::string text;
  try {
    archive_.load_from(bytes.data() + kHeader, bytes.size() - kHeader, device);
    c10::IValue v;
    archive_.read("state", v);
    if (!v.isString()) bad(file, "its state is not text: not a gengap checkpoint");
    text = v.toStringRef();
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    bad(file, "cannot be read: truncated, corrupt or not a gengap checkpoint (" + first_line(e) + ")");
  }
  const json j = core::parse_json(text, file + " (state)");
  const std::string in = "in the state of " + file;
  core::ObjectReader r(j, in);
  std::string format;
  r.required("format", format);
  if (format != "gengap-checkpoint-1") bad(file, "has format " + core::printable(format, 40) + ", expected gengap-checkpoint-1");
  r.required("iteration", state_.iteration);
  r.required("epoch", state_.epoch);
  r.required("probe0", state_.probe0);
  r.required("world_size", state_.world_size);
  r.required("metrics", state_.metrics);
  r.required("distances", state_.distances);
  r.required("config", state_.config);
  r.optional("clipped", state_.clipped);
  r.optional("probe_test0", state_.probe_test0);
  r.optional("noise", state_.noise);
  r.finish();
  if (state_.iteration < 0 || state_.epoch < 0 || state_.world_size < 1 || state_.clipped < 0 || state_.clipped > state_.iteration)
    bad(file, "its state has negative or inconsistent counters");
  if (!state_.config.is_object()) bad(file, "its state holds no config object");
  check_rows(state_.metrics, "metrics", {"epoch", "iteration", "lr", "train_loss", "test_loss", "test_accuracy", "distance", "seconds"}, file);
  check_rows(state_.distances, "distances",
             {"iteration", "epoch", "loss", "distance", "probe_loss_delta", "probe_test_loss_delta", "grad_norm", "clipped"}, file);
  check_rows(state_.noise, "noise", {"iteration", "epoch", "trace", "grad_sq", "group_size", "groups"}, file);
  for (const auto& d : state_.distances) {
    if (!d.contains("layers") || !d.at("layers").is_object()) bad(file, "a row of its distances has no layers");
    if (!d.contains("weights") || !d.at("weights").is_object()) bad(file, "a row of its distances has no weights");
    if (!d.at("clipped").is_number_integer() || !d.at("iteration").is_number_integer()) bad(file, "a row of its distances has a fractional count");
  }
}

void Checkpoint::load_model(torch::nn::Module& model) {
  try {
    torch::serialize::InputArchive ma;
    archive_.read("model", ma);
    model.load(ma);
  } catch (const std::exception& e) {
    bad(file_, "does not fit this model (" + first_line(e) + ")");
  }
}

void Checkpoint::restore(torch::nn::Module& model, torch::optim::Optimizer& optimizer, std::map<std::string, torch::Tensor>& w0,
                         const torch::Device& device) {
  try {
    torch::serialize::InputArchive ma, oa, wa;
    archive_.read("model", ma);
    model.load(ma);
    archive_.read("optimizer", oa);
    optimizer.load(oa);
    archive_.read("w0", wa);
    for (auto& [name, t] : w0) {
      torch::Tensor v;
      wa.read(name, v);
      if (!v.defined() || v.sizes() != t.sizes() || v.scalar_type() != t.scalar_type())
        bad(file_, "its w0 of " + name + " does not fit the model (another model, dtype or size)");
      t = v.to(device);
    }
    torch::Tensor rng;
    archive_.read("rng", rng);
    at::Generator cpu_gen = at::detail::getDefaultCPUGenerator();
    cpu_gen.set_state(rng);
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    bad(file_, "does not fit this model and optimizer (" + first_line(e) + ")");
  }
}

namespace {
constexpr char kSnapshotMagic[] = "GENGAPSN";
}

std::string snapshot_bytes(const torch::nn::Module& model) {
  // Flat: one tensor per parameter and buffer under its full name, so a reader can check each.
  torch::serialize::OutputArchive a;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) a.write(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) a.write(b.key(), b.value(), /*is_buffer=*/true);
  std::ostringstream os;
  a.save_to(os);
  const std::string payload = os.str();
  std::string out(kSnapshotMagic, 8);
  put64(out, payload.size());
  put64(out, core::fnv1a64(payload));
  return out + payload;
}

void load_snapshot(torch::nn::Module& model, const std::string& bytes, const std::string& file, const torch::Device& device) {
  auto fail = [&file](const std::string& why) { throw core::InvalidArgument("snapshot", file, why); };
  if (bytes.size() < kHeader || bytes.compare(0, 8, kSnapshotMagic, 8) != 0) fail("is not a gengap snapshot (no GENGAPSN header)");
  if (get64(bytes, 8) != bytes.size() - kHeader) fail("is truncated or extended");
  if (get64(bytes, 16) != core::fnv1a64(std::string_view(bytes).substr(kHeader))) fail("is corrupt: its checksum does not match its content");
  torch::serialize::InputArchive a;
  try {
    a.load_from(bytes.data() + kHeader, bytes.size() - kHeader, device);
  } catch (const std::exception& e) {
    fail("cannot be read (" + first_line(e) + ")");
  }
  // Every tensor is read and checked before any is copied into the model.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  auto take = [&](const std::string& name, const torch::Tensor& target, bool buffer) {
    torch::Tensor v;
    bool found = false;
    try {
      found = a.try_read(name, v, buffer);
    } catch (const std::exception& e) {
      fail("its " + name + " cannot be read (" + first_line(e) + ")");
    }
    if (!found || !v.defined()) fail("has no " + name + ": a snapshot of another model");
    if (v.sizes() != target.sizes() || v.scalar_type() != target.scalar_type())
      fail("its " + name + " does not fit this model (another model, dtype or size)");
    copies.emplace_back(target, v);
  };
  for (const auto& p : model.named_parameters(true)) take(p.key(), p.value(), false);
  for (const auto& b : model.named_buffers(true)) take(b.key(), b.value(), true);
  torch::NoGradGuard ng;
  for (auto& [target, v] : copies) target.copy_(v);
}

}  // namespace gengap::train
