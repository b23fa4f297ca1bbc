// The trainer: SGD under a regime, large-batch techniques, evaluation, distances, checkpoints.
#include "gengap/train/trainer.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <deque>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include "gengap/core/error.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/distributed.hpp"
#include "gengap/train/models.hpp"
#include "gengap/train/regime.hpp"
#include "gengap/train/run_log.hpp"
#include "gengap/train/weight_distance.hpp"

namespace gengap::train {
namespace fs = std::filesystem;
using nlohmann::json;

// ------------------------------------------------------------------------------------------------
// Config

namespace {
[[noreturn]] void bad(const std::string& field, const std::string& value, const std::string& why) {
  throw core::InvalidArgument(field, value, why);
}
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

void TrainConfig::validate() const {
  check_model_name(model);
  if (dataset != "fashion-mnist" && dataset != "mnist" && dataset != "cifar10" && dataset != "cifar100" && dataset != "synthetic" &&
      dataset != "synthetic-cifar")
    bad("dataset", dataset, "expected fashion-mnist, mnist, cifar10, cifar100, synthetic or synthetic-cifar");
  if (batch_size < 2) bad("batch_size", std::to_string(batch_size), "must be >= 2");
  if (ghost_batch_size < 2) bad("ghost_batch_size", std::to_string(ghost_batch_size), "must be >= 2");
  if (norm != "bn" && norm != "gbn" && norm != "none") bad("norm", norm, "expected bn, gbn or none");
  if (norm == "gbn" && ghost_batch_size > batch_size)
    bad("ghost_batch_size", std::to_string(ghost_batch_size),
        "larger than batch_size = " + std::to_string(batch_size) + " with norm = gbn (a ghost batch must fit in the batch)");
  parse_lr_scaling(lr_scaling);
  if (lr_scaling == "linear" && ghost_batch_size > batch_size)
    bad("ghost_batch_size", std::to_string(ghost_batch_size), "linear lr scaling needs ghost_batch_size <= batch_size");
  if (!(regime_scale > 0) || !std::isfinite(regime_scale)) bad("regime_scale", num(regime_scale), "must be > 0");
  if (!(warmup_epochs >= 0)) bad("warmup_epochs", num(warmup_epochs), "must be >= 0");
  if (!(epochs >= 0) || !std::isfinite(epochs) || epochs > 1e9)
    bad("epochs", num(epochs), "must be finite, in [0, 1e9] (0 = the regime's length)");
  if (!(warmup_epochs <= 1e9) || !std::isfinite(warmup_epochs)) bad("warmup_epochs", num(warmup_epochs), "must be finite");
  if (max_iterations < 0) bad("max_iterations", std::to_string(max_iterations), "must be >= 0");
  if (!(lr >= 0) || !std::isfinite(lr)) bad("lr", num(lr), "must be >= 0 (0 = the regime's own)");
  if (!(clip_norm >= 0) || !std::isfinite(clip_norm)) bad("clip_norm", num(clip_norm), "must be finite and >= 0 (0 = off)");
  {
    // auto, cpu, cuda or cuda:N; LibTorch's own parser would end in a backtrace for anything else.
    bool ok = device == "auto" || device == "cpu" || device == "cuda";
    if (!ok && device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() <= 8)
      ok = device.find_first_not_of("0123456789", 5) == std::string::npos;
    if (!ok) bad("device", device, "expected auto, cpu, cuda or cuda:N");
  }
  if (dtype != "float32" && dtype != "float64") bad("dtype", dtype, "expected float32 or float64");
  if (out_dir.empty()) bad("out_dir", "\"\"", "must name a folder");
  if (train_subset < 0) bad("train_subset", std::to_string(train_subset), "must be >= 0");
  if (test_subset < 0) bad("test_subset", std::to_string(test_subset), "must be >= 0");
  if (dataset.rfind("synthetic", 0) == 0 && synthetic_size > (int64_t{1} << 24))
    bad("synthetic_size", std::to_string(synthetic_size), "must be <= 2^24 (16.8 million samples)");
  if (synthetic_size < batch_size && dataset.rfind("synthetic", 0) == 0)
    bad("synthetic_size", std::to_string(synthetic_size), "must be >= batch_size");
  if (!(synthetic_noise >= 0) || !std::isfinite(synthetic_noise)) bad("synthetic_noise", num(synthetic_noise), "must be >= 0");
  if (distance_per_decade < 1 || distance_per_decade > 1000)
    bad("distance_per_decade", std::to_string(distance_per_decade), "must lie in [1, 1000]");
  if (probe_size < 2) bad("probe_size", std::to_string(probe_size), "must be >= 2");
  if (world_size < 1) bad("world_size", std::to_string(world_size), "must be >= 1");
  if (rank < 0 || rank >= world_size) bad("rank", std::to_string(rank), "must lie in [0, world_size = " + std::to_string(world_size) + ")");
  if (batch_size % world_size != 0)
    bad("batch_size", std::to_string(batch_size), "must be divisible by world_size = " + std::to_string(world_size));
  if (world_size > 1 && batch_size / world_size < 2)
    bad("batch_size", std::to_string(batch_size), "must give every worker at least 2 samples");
  if (world_size > 1 && norm == "gbn" && ghost_batch_size > batch_size / world_size)
    bad("ghost_batch_size", std::to_string(ghost_batch_size),
        "larger than the per-worker batch batch_size / world_size = " + std::to_string(batch_size / world_size) +
            " with norm = gbn (each worker normalizes its own slice)");
  if (master_port < 1 || master_port > 65535) bad("master_port", std::to_string(master_port), "must lie in [1, 65535]");
  if (!(dist_timeout > 0) || !std::isfinite(dist_timeout)) bad("dist_timeout", num(dist_timeout), "must be > 0");
}

#define GENGAP_CONFIG_FIELDS(X)                                                                                      \
  X(model) X(dataset) X(data_dir) X(batch_size) X(ghost_batch_size) X(norm) X(lr_scaling) X(warmup_epochs)           \
  X(regime_adaptation) X(regime_scale) X(epochs) X(max_iterations) X(lr) X(nesterov) X(clip_norm) X(seed) X(device) X(dtype) X(out_dir)       \
  X(train_subset) X(test_subset) X(synthetic_size) X(synthetic_noise) X(distance_per_decade) X(probe_size) X(augment) X(resume) X(progress) \
  X(world_size) X(rank) X(master_addr) X(master_port) X(dist_timeout)

void to_json(json& j, const TrainConfig& c) {
  j = json::object();
#define X(f) j[#f] = c.f;
  GENGAP_CONFIG_FIELDS(X)
#undef X
}

void from_json(const json& j, TrainConfig& c) { apply_json(j, c, ""); }

void apply_json(const json& j, TrainConfig& c, const std::string& where) {
  core::ObjectReader r(j, where);
#define X(f) r.optional(#f, c.f);
  GENGAP_CONFIG_FIELDS(X)
#undef X
  r.finish();
}

const std::vector<std::string>& resume_fields() {
  // What makes a checkpoint another run: its model and data, how batches and epochs are counted,
  // the normalization, the lr rule and the regime's clock, the seed, the probe, workers and dtype.
  // The lr, clipping, momentum and warm-up may change on purpose (an intervention), as may epochs.
  static const std::vector<std::string> f{"model",          "dataset",         "batch_size",  "ghost_batch_size",
                                          "norm",           "lr_scaling",      "regime_adaptation", "regime_scale",
                                          "seed",           "train_subset",    "test_subset", "synthetic_size",
                                          "synthetic_noise", "probe_size",     "world_size",  "dtype"};
  return f;
}

std::vector<std::string> resume_mismatches(const TrainConfig& now, const json& saved) {
  const json cur = now;
  std::vector<std::string> out;
  for (const auto& k : resume_fields()) {
    const json a = saved.is_object() && saved.contains(k) ? saved.at(k) : json();
    const json& b = cur.at(k);
    // Numbers compare by value (1 and 1.0 are the same setting).
    const bool same = (a.is_number() && b.is_number()) ? a.get<double>() == b.get<double>() : a == b;
    if (!same) out.push_back(k + " " + core::printable(a.is_null() ? std::string("(not recorded)") : a.dump(), 60) + " in the checkpoint, " +
                             core::printable(b.dump(), 60) + " now");
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Data stream: a producer thread prepares batches of an epoch ahead of the training step.

namespace {

struct Batch {
  torch::Tensor x, y;
};

class BatchStream {
 public:
  /// Batches of `batch` samples in the epoch's order; a worker (rank of world) gets its slice
  /// [rank, rank + 1) x batch / world of each, so that the workers together see the single-process batch.
  BatchStream(const Dataset& d, int64_t batch, uint64_t seed, bool augment, int64_t epoch, int rank = 0, int world = 1)
      : data_(d), batch_(batch), seed_(seed), augment_(augment), local_(batch / world), offset_(rank * (batch / world)) {
    const int64_t n = d.size();
    torch::Generator g = at::detail::createCPUGenerator(seed * 1000003ull + static_cast<uint64_t>(epoch));
    perm_ = torch::randperm(n, g, torch::kLong);
    count_ = n / batch;
    epoch_ = epoch;
    worker_ = std::thread([this] { produce(); });
  }
  ~BatchStream() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  int64_t count() const { return count_; }
  Batch next() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [this] { return !q_.empty() || error_; });
    if (error_) std::rethrow_exception(error_);
    Batch b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  void produce() {
    try {
      for (int64_t b = 0; b < count_; ++b) {
        const torch::Tensor idx = perm_.narrow(0, b * batch_, batch_);
        Batch out;
        if (augment_) {
          // The crops of a batch come from one stream over the whole batch: augment it, then slice.
          const uint64_t s = sim::Stream(seed_, sim::StreamPurpose::kStart, static_cast<uint32_t>(epoch_), static_cast<uint32_t>(b))(0)[0];
          out = {augment_crop_flip(data_.images.index_select(0, idx), 4, s), data_.labels.index_select(0, idx)};
          if (local_ < batch_) out = {out.x.narrow(0, offset_, local_), out.y.narrow(0, offset_, local_)};
        } else {
          const torch::Tensor mine = local_ < batch_ ? idx.narrow(0, offset_, local_) : idx;
          out = {data_.images.index_select(0, mine), data_.labels.index_select(0, mine)};
        }
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [this] { return q_.size() < 3 || stop_; });
        if (stop_) return;
        q_.push_back(std::move(out));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> l(m_);
      error_ = std::current_exception();
      cv_.notify_all();
    }
  }
  const Dataset& data_;
  int64_t batch_;
  uint64_t seed_;
  bool augment_;
  int64_t local_, offset_;
  torch::Tensor perm_;
  int64_t count_ = 0, epoch_ = 0;
  std::deque<Batch> q_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

void write_atomic(const fs::path& p, const std::string& text) { core::write_file_atomic(p.string(), text); }

/// "1x28x28": a batch tensor's per-sample shape.
std::string shape_text(const torch::Tensor& t) {
  std::string s;
  for (int64_t i = 1; i < t.dim(); ++i) s += (s.empty() ? "" : "x") + std::to_string(t.size(i));
  return s;
}

Dataset load(const TrainConfig& c, bool train) {
  Dataset d;
  if (c.dataset.rfind("synthetic", 0) == 0) {
    const bool cifar = c.dataset == "synthetic-cifar";
    d = make_synthetic(train ? c.synthetic_size : std::max<int64_t>(512, c.synthetic_size / 4), cifar ? 3 : 1, cifar ? 32 : 28,
                       10, c.seed, c.seed + (train ? 1 : 2), c.synthetic_noise);
  } else if (c.dataset == "cifar10") {
    d = load_cifar10(c.data_dir, train);
  } else if (c.dataset == "cifar100") {
    d = load_cifar100(c.data_dir, train);
  } else {
    d = load_mnist_dir(c.data_dir, train);
  }
  const int64_t sub = train ? c.train_subset : c.test_subset;
  if (sub > 0 && sub < d.size()) {
    d.images = d.images.narrow(0, 0, sub).clone();
    d.labels = d.labels.narrow(0, 0, sub).clone();
  }
  return d;
}

std::pair<double, double> evaluate(torch::nn::Sequential& model, const Dataset& d, const torch::Device& dev) {
  torch::NoGradGuard ng;
  model->eval();
  double loss = 0, correct = 0;
  for (int64_t s = 0; s < d.size(); s += 1000) {
    const int64_t n = std::min<int64_t>(1000, d.size() - s);
    const torch::Tensor x = d.images.narrow(0, s, n).to(dev), y = d.labels.narrow(0, s, n).to(dev);
    const torch::Tensor out = model->forward(x);
    loss += torch::nn::functional::cross_entropy(out, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    correct += out.argmax(1).eq(y).sum().item<double>();
  }
  model->train();
  return {loss / static_cast<double>(d.size()), correct / static_cast<double>(d.size())};
}

/// Loss on a fixed batch in training mode, leaving the running statistics untouched.
double probe_loss(torch::nn::Sequential& model, const Batch& probe) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> saved;
  for (auto& b : model->buffers()) saved.push_back(b.clone());
  const double l = torch::nn::functional::cross_entropy(model->forward(probe.x), probe.y).item<double>();
  std::size_t i = 0;
  for (auto& b : model->buffers()) b.copy_(saved[i++]);
  return l;
}

}  // namespace

// ------------------------------------------------------------------------------------------------

Regime resolve_regime(const TrainConfig& c) {
  Regime regime = authors_regime(c.model);
  if (c.lr > 0) {
    const double f = c.lr / regime.phases.front().lr;
    for (auto& p : regime.phases) p.lr *= f;
  }
  if (c.regime_scale != 1) {
    for (auto& p : regime.phases) p.start *= c.regime_scale;
    regime.length *= c.regime_scale;
  }
  if (c.regime_adaptation) regime = adapt_regime(regime, c.batch_size, c.ghost_batch_size);
  return regime;
}

RegimePlan plan_regime(const TrainConfig& c, int64_t train_size) {
  const Regime regime = resolve_regime(c);
  RegimePlan p;
  p.per_epoch = train_size / c.batch_size;
  p.epochs = c.epochs > 0 ? c.epochs : regime.length;
  const double planned = regime.unit == RegimeUnit::kIteration && c.epochs <= 0 ? regime.length : p.epochs * static_cast<double>(p.per_epoch);
  if (!(planned <= 9e15))
    bad(c.epochs > 0 ? "epochs" : "regime_scale", num(c.epochs > 0 ? c.epochs : c.regime_scale), "gives " + num(planned) + " updates, more than 2^53");
  p.total = static_cast<int64_t>(std::llround(planned));
  if (c.max_iterations > 0) p.total = std::min(p.total, c.max_iterations);
  p.first_drop = p.total;
  if (regime.phases.size() > 1) {
    const double start = regime.phases[1].start;
    const double at = regime.unit == RegimeUnit::kIteration ? start : start * static_cast<double>(p.per_epoch);
    p.first_drop = std::min(p.total, static_cast<int64_t>(std::llround(at)));
  }
  return p;
}

TrainSummary train(const TrainConfig& cfg) {
  cfg.validate();
  const auto t_start = std::chrono::steady_clock::now();
  torch::Device dev(torch::kCPU);
  if (cfg.device == "auto") {
    if (torch::cuda::is_available()) dev = torch::Device(torch::kCUDA);
  } else {
    dev = torch::Device(cfg.device);
    if (dev.is_cuda() && !torch::cuda::is_available()) bad("device", cfg.device, "CUDA is not available here (use auto or cpu)");
  }
  const torch::Dtype dtype = cfg.dtype == "float64" ? torch::kDouble : torch::kFloat;
  const bool lead = cfg.rank == 0;  // rank 0 evaluates, reports and writes every file
  const bool progress = cfg.progress && lead;
  const fs::path out(cfg.out_dir);
  const fs::path ckpt = out / "checkpoint.pt";
  // Everything is checked before anything is written: the output folder, the checkpoint to resume
  // (present, readable, made with the same settings), the data, the model.
  std::unique_ptr<Checkpoint> resumed;
  if (cfg.resume) {
    if (!fs::exists(ckpt))
      bad("resume", "true", "there is no checkpoint to resume from (" + ckpt.string() + "); drop --resume to start afresh");
    resumed = std::make_unique<Checkpoint>(core::read_file(ckpt.string(), "checkpoint", std::uint64_t{1} << 36), ckpt.string(), dev);
    const std::vector<std::string> diff = resume_mismatches(cfg, resumed->state().config);
    if (!diff.empty()) {
      std::string d;
      for (const auto& x : diff) d += (d.empty() ? "" : "; ") + x;
      bad("checkpoint", ckpt.string(), "was made with other settings (" + d + "); resume with the same settings or use another out_dir");
    }
  }
  if (lead) core::check_output_dir("out_dir", cfg.out_dir);

  Dataset train_set = load(cfg, true), test_set = load(cfg, false);
  if (train_set.size() < cfg.batch_size)
    bad("batch_size", std::to_string(cfg.batch_size), "larger than the training set (" + std::to_string(train_set.size()) + " samples)");
  if (train_set.images.sizes().slice(1) != test_set.images.sizes().slice(1))
    throw DataError(cfg.data_dir + ": the test images are " + shape_text(test_set.images) + " but the training images are " +
                    shape_text(train_set.images) + " (a test set from another data set?)");
  if (test_set.size() < 1) throw DataError(cfg.data_dir + ": the test set holds no samples");
  const auto [mean, stdev] = channel_stats(train_set);
  normalize(train_set, mean, stdev);
  normalize(test_set, mean, stdev);
  if (dtype != torch::kFloat) {
    train_set.images = train_set.images.to(dtype);
    test_set.images = test_set.images.to(dtype);
  }

  const Regime regime = resolve_regime(cfg);
  const RegimePlan plan = plan_regime(cfg, train_set.size());
  const int64_t per_epoch = plan.per_epoch;
  const int64_t total_it = plan.total;
  const LrScaling scaling = parse_lr_scaling(cfg.lr_scaling);

  torch::manual_seed(cfg.seed);
  ModelOptions mo;
  mo.classes = std::max(train_set.classes, test_set.classes);
  mo.in_channels = train_set.images.size(1);
  mo.image_size = train_set.images.size(2);
  mo.norm = norm_factory(cfg.norm, cfg.ghost_batch_size);
  torch::nn::Sequential model = make_model(cfg.model, mo);
  model->to(dev);
  if (dtype != torch::kFloat) {
    // Module::to(dtype) would convert the integer buffers (num_batches_tracked) too.
    torch::NoGradGuard ng;
    for (auto& p : model->parameters()) p.set_data(p.to(dtype));
    for (auto& b : model->buffers())
      if (b.is_floating_point()) b.set_data(b.to(dtype));
  }
  model->train();

  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(regime.phases.front().lr)
                                                 .momentum(regime.phases.front().momentum)
                                                 .nesterov(cfg.nesterov && regime.phases.front().momentum > 0));
  WeightDistance dist(*model);
  const int64_t probe_n = std::min(cfg.probe_size, train_set.size());
  const Batch probe{train_set.images.narrow(0, 0, probe_n).to(dev), train_set.labels.narrow(0, 0, probe_n).to(dev)};
  double probe0 = probe_loss(model, probe);

  int64_t it = 0, start_epoch = 0, resumed_clipped = 0;
  json metrics = json::array(), distances = json::array();
  if (resumed) {
    std::map<std::string, torch::Tensor> w0 = dist.initial();
    resumed->restore(*model, opt, w0, dev);
    dist.set_initial(std::move(w0));
    const CheckpointState& st = resumed->state();
    it = st.iteration;
    start_epoch = st.epoch;
    probe0 = st.probe0;
    metrics = st.metrics;
    distances = st.distances;
    resumed_clipped = st.clipped;
    resumed.reset();
    if (progress) std::cerr << "resumed from " << ckpt.string() << " at epoch " << start_epoch << ", iteration " << it << '\n';
  }

  // Data-parallel: meet the other workers once every local check has passed.
  std::unique_ptr<Communicator> comm;
  if (cfg.world_size > 1) {
    DistOptions d;
    d.rank = cfg.rank;
    d.world_size = cfg.world_size;
    d.master_addr = cfg.master_addr;
    d.master_port = cfg.master_port;
    d.timeout_seconds = cfg.dist_timeout;
    comm = std::make_unique<Communicator>(d, dev);
    if (!cfg.resume) {  // every worker starts from rank 0's weights (the seed makes them equal anyway)
      std::vector<torch::Tensor> state = model->parameters();
      for (auto& b : model->buffers()) state.push_back(b);
      comm->broadcast(state);
    }
  }
  if (lead) {
    json j = cfg;
    write_atomic(out / "config.json", j.dump(2) + "\n");
  }

  if (comm) {
    // Dropout draws from the default generator: give each worker its own stream (otherwise the
    // workers' slices would share masks), a function of (seed, rank, iteration) so that a resumed
    // job continues deterministically.
    const uint64_t s = sim::Stream(cfg.seed, sim::StreamPurpose::kStart, static_cast<uint32_t>(cfg.rank), static_cast<uint32_t>(it))(1)[0];
    torch::manual_seed(s);
  }

  int64_t clipped = resumed_clipped;  // updates clipped so far
  auto save_all = [&](int64_t epoch_done) {
    std::ostringstream csv, lay, mcsv;
    csv << run_log::kIteration << ',' << run_log::kEpoch << ',' << run_log::kLoss << ',' << run_log::kDistance << ','
        << run_log::kProbeLossDelta << ',' << run_log::kGradNorm << ',' << run_log::kClipped << '\n';
    for (const auto& r : distances) {
      csv << r[run_log::kIteration].get<int64_t>() << ',' << r[run_log::kEpoch].get<double>() << ',' << r[run_log::kLoss].get<double>()
          << ',' << r[run_log::kDistance].get<double>() << ',' << r[run_log::kProbeLossDelta].get<double>() << ','
          << r[run_log::kGradNorm].get<double>() << ',' << r[run_log::kClipped].get<int64_t>() << '\n';
      lay << json{{run_log::kIteration, r[run_log::kIteration]}, {"layers", r["layers"]}, {"weights", r["weights"]}}.dump() << '\n';
    }
    mcsv << "epoch,iteration,lr,train_loss,test_loss,test_accuracy,distance,seconds\n";
    std::ostringstream jl;
    for (const auto& m : metrics) {
      jl << m.dump() << '\n';
      mcsv << m["epoch"].get<double>() << ',' << m["iteration"].get<int64_t>() << ',' << m["lr"].get<double>() << ','
           << m["train_loss"].get<double>() << ',' << m["test_loss"].get<double>() << ',' << m["test_accuracy"].get<double>()
           << ',' << m["distance"].get<double>() << ',' << m["seconds"].get<double>() << '\n';
    }
    // The checkpoint first: the logs never run ahead of the state a resume continues from.
    CheckpointState st;
    st.iteration = it;
    st.epoch = epoch_done;
    st.probe0 = probe0;
    st.metrics = metrics;
    st.distances = distances;
    st.world_size = cfg.world_size;
    st.clipped = clipped;
    st.config = cfg;
    write_atomic(ckpt, checkpoint_bytes(*model, opt, dist.initial(), st));
    write_atomic(out / run_log::kDistanceFile, csv.str());
    write_atomic(out / run_log::kLayersFile, lay.str());
    write_atomic(out / "metrics.jsonl", jl.str());
    write_atomic(out / run_log::kMetricsFile, mcsv.str());
  };

  const bool tty = progress && isatty(STDERR_FILENO) != 0;
  std::unique_ptr<GradientAllReduce> grads;
  if (comm) grads = std::make_unique<GradientAllReduce>(model->parameters(), *comm);
  double step_time = 0, allreduce_time = 0;
  const bool augment = cfg.augment && (cfg.dataset == "cifar10" || cfg.dataset == "cifar100");
  double last_lr = 0, epoch_loss = 0, last_test_loss = 0, last_acc = 0;
  if (!metrics.empty()) {  // resumed: a run that had finished its last epoch reports that epoch
    const json& m = metrics.back();
    last_lr = m["lr"].get<double>();
    epoch_loss = m["train_loss"].get<double>();
    last_test_loss = m["test_loss"].get<double>();
    last_acc = m["test_accuracy"].get<double>();
  }
  const auto t_run = std::chrono::steady_clock::now();
  const int64_t it_at_start = it;
  for (int64_t epoch = start_epoch; it < total_it; ++epoch) {
    BatchStream stream(train_set, cfg.batch_size, cfg.seed, augment, epoch, cfg.rank, cfg.world_size);
    double loss_sum = 0;
    int64_t n_batches = 0;
    for (int64_t b = 0; b < per_epoch && it < total_it; ++b) {
      Batch batch = stream.next();
      const double pos = regime.unit == RegimeUnit::kEpoch ? static_cast<double>(epoch) + static_cast<double>(b) / static_cast<double>(per_epoch)
                                                           : static_cast<double>(it);
      const RegimePhase& ph = regime.at(pos);
      last_lr = scaled_lr(ph.lr, cfg.batch_size, cfg.ghost_batch_size, scaling,
                          static_cast<double>(epoch) + static_cast<double>(b) / static_cast<double>(per_epoch), cfg.warmup_epochs);
      auto& o = static_cast<torch::optim::SGDOptions&>(opt.param_groups()[0].options());
      o.lr(last_lr).momentum(ph.momentum).weight_decay(ph.weight_decay).nesterov(cfg.nesterov && ph.momentum > 0);
      const torch::Tensor x = batch.x.to(dev, dtype), y = batch.y.to(dev);
      const auto t_step = std::chrono::steady_clock::now();
      opt.zero_grad();
      const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
      // The global batch's mean loss: the workers' slices are equal, so it is the mean of theirs.
      const double lv = comm ? comm->allreduce_mean(loss.item<double>()) : loss.item<double>();
      if (!std::isfinite(lv)) {
        throw std::runtime_error("iteration " + std::to_string(it + 1) + " (epoch " + std::to_string(epoch) + "): the loss is " +
                                 num(lv) + "; training stopped. The last good checkpoint is kept: " +
                                 (fs::exists(ckpt) ? ckpt.string() : std::string("(none written yet)")));
      }
      if (grads) grads->prepare();
      loss.backward();
      if (grads) allreduce_time += grads->finish();  // gradients are now the global batch's, on every worker
      // The gradient's norm before clipping (a pass either way): the repro's window rule reads it.
      const double grad_norm =
          torch::nn::utils::clip_grad_norm_(model->parameters(), cfg.clip_norm > 0 ? cfg.clip_norm : std::numeric_limits<double>::infinity());
      if (cfg.clip_norm > 0 && grad_norm > cfg.clip_norm) ++clipped;
      opt.step();
      step_time += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_step).count();
      ++it;
      loss_sum += lv;
      ++n_batches;
      if (lead && distance_due(it, cfg.distance_per_decade)) {
        json layers = json::object();
        double sq = 0;  // the total distance from the per-layer ones: one pass over the parameters
        for (const auto& [k, v] : dist.per_layer(*model)) {
          layers[k] = v;
          sq += v * v;
        }
        json weights = json::object();
        for (const auto& [k, g] : dist.weight_geometry(*model)) weights[k] = {{"norm", g.norm}, {"norm0", g.norm0}, {"cos", g.cos}};
        distances.push_back({{run_log::kIteration, it},
                             {run_log::kEpoch, static_cast<double>(it) / static_cast<double>(per_epoch)},
                             {run_log::kLoss, lv},
                             {run_log::kDistance, std::sqrt(sq)},
                             {run_log::kProbeLossDelta, probe_loss(model, probe) - probe0},
                             {run_log::kGradNorm, grad_norm},
                             {run_log::kClipped, clipped},
                             {"layers", layers},
                             {"weights", weights}});
      }
      if (tty && (b % 10 == 0 || it == total_it)) {
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count();
        const double rate = static_cast<double>(it - it_at_start) / std::max(el, 1e-9);
        std::fprintf(stderr, "\repoch %lld  it %lld/%lld  loss %.4f  lr %.4g  %.0f samples/s  ETA %.0f s\033[K",
                     static_cast<long long>(epoch + 1), static_cast<long long>(it), static_cast<long long>(total_it), lv, last_lr,
                     rate * static_cast<double>(cfg.batch_size), static_cast<double>(total_it - it) / std::max(rate, 1e-9));
      }
    }
    epoch_loss = n_batches > 0 ? loss_sum / static_cast<double>(n_batches) : 0;
    if (comm) {
      // Each worker's batch norm tracked its own slices: evaluate with the mean of their statistics.
      std::vector<torch::Tensor> bufs = model->buffers();
      comm->allreduce_mean(bufs);
    }
    if (!lead) {
      // Rank 0 evaluates and writes the checkpoint; wait for it here, where the evaluation's length
      // (minutes for a large model on a CPU) does not count against the collectives' timeout.
      if (comm) comm->barrier(std::max(3600.0, cfg.dist_timeout));
      continue;
    }
    std::tie(last_test_loss, last_acc) = evaluate(model, test_set, dev);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    const double distance = dist.total(*model);
    metrics.push_back({{"epoch", static_cast<double>(it) / static_cast<double>(per_epoch)},
                       {"iteration", it},
                       {"lr", last_lr},
                       {"train_loss", epoch_loss},
                       {"test_loss", last_test_loss},
                       {"test_accuracy", last_acc},
                       {"distance", distance},
                       {"seconds", secs}});
    if (progress) {
      if (tty) std::fprintf(stderr, "\n");
      std::fprintf(stderr, "epoch %lld: train loss %.4f, test loss %.4f, test accuracy %.2f%%, ||w - w0|| %.3f\n",
                   static_cast<long long>(epoch + 1), epoch_loss, last_test_loss, 100 * last_acc, distance);
    }
    save_all(epoch + 1);
    if (comm) comm->barrier(std::max(3600.0, cfg.dist_timeout));
  }
  TrainSummary s;
  s.iterations = it;
  s.epochs = static_cast<double>(it) / static_cast<double>(per_epoch);
  s.final_train_loss = epoch_loss;
  s.test_accuracy = last_acc;
  s.test_loss = last_test_loss;
  s.final_distance = dist.total(*model);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  s.device = dev.str();
  s.world_size = cfg.world_size;
  const double steps_here = static_cast<double>(std::max<int64_t>(1, it - it_at_start));
  s.step_seconds = step_time / steps_here;
  s.allreduce_seconds = allreduce_time / steps_here;
  if (comm) comm->barrier();  // nobody leaves while another still needs it
  if (!lead) return s;
  const json sj = {{"iterations", s.iterations},
                   {"epochs", s.epochs},
                   {"final_train_loss", s.final_train_loss},
                   {"test_accuracy", s.test_accuracy},
                   {"test_loss", s.test_loss},
                   {"final_distance", s.final_distance},
                   {"seconds", s.seconds},
                   {"device", s.device},
                   {"world_size", s.world_size},
                   {"step_seconds", s.step_seconds},
                   {"allreduce_seconds", s.allreduce_seconds},
                   {"samples_per_second", s.step_seconds > 0 ? static_cast<double>(cfg.batch_size) / s.step_seconds : 0.0}};
  write_atomic(out / "summary.json", sj.dump(2) + "\n");
  return s;
}

}  // namespace gengap::train
