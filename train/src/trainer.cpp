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

#include "gengap/core/blas.hpp"
#include "gengap/core/error.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"
#include "gengap/core/philox.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/distributed.hpp"
#include "gengap/train/landscape.hpp"
#include "gengap/train/noise_scale.hpp"
#include "gengap/train/models.hpp"
#include "gengap/train/regime.hpp"
#include "gengap/train/run_log.hpp"
#include "gengap/train/weight_distance.hpp"
#include "batch_stream.hpp"
#include "internal.hpp"

namespace gengap::train {
namespace fs = std::filesystem;
using nlohmann::json;

using detail::bad;
using detail::Batch;
using detail::BatchStream;
using detail::num;

namespace {

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

/// Loss on a fixed probe set, batch norm on the whole probe's statistics at the current weights
/// (ProbeNorm::kProbeBatch), leaving the running statistics untouched.
double probe_loss(torch::nn::Sequential& model, const Batch& probe) {
  return fixed_probe_loss(*model, [&model](const torch::Tensor& x) { return model->forward(x); }, probe.x, probe.y, ProbeNorm::kProbeBatch);
}

/// The two probe sets (training, test) and their losses at w_0.
struct Probes {
  Batch train, test;
  double train0 = 0, test0 = 0;
};

/// One row of distance.csv / distance_layers.jsonl at update `it` (run_log.hpp's columns).
json distance_row(torch::nn::Sequential& model, const WeightDistance& dist, const Probes& probe, int64_t it, double epoch, double loss,
                  double grad_norm, int64_t clipped) {
  json layers = json::object();
  double sq = 0;  // the total distance from the per-layer ones: one pass over the parameters
  for (const auto& [k, v] : dist.per_layer(*model)) {
    layers[k] = v;
    sq += v * v;
  }
  json weights = json::object();
  for (const auto& [k, g] : dist.weight_geometry(*model)) weights[k] = {{"norm", g.norm}, {"norm0", g.norm0}, {"cos", g.cos}};
  return {{run_log::kIteration, it},
          {run_log::kEpoch, epoch},
          {run_log::kLoss, loss},
          {run_log::kDistance, std::sqrt(sq)},
          {run_log::kProbeLossDelta, probe_loss(model, probe.train) - probe.train0},
          {run_log::kProbeTestLossDelta, probe_loss(model, probe.test) - probe.test0},
          {run_log::kGradNorm, grad_norm},
          {run_log::kClipped, clipped},
          {"layers", layers},
          {"weights", weights}};
}

/// summary.json: what train() returns, with the throughput.
void write_summary(const fs::path& file, const TrainSummary& s, int64_t batch_size);

// ------------------------------------------------------------------------------------------------
// The stages of train(): each checks what it can before anything is written.

/// The device of `cfg` (auto: CUDA when present).
torch::Device select_device(const TrainConfig& cfg) {
  if (cfg.device == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const torch::Device dev(cfg.device);
  if (dev.is_cuda() && !torch::cuda::is_available()) bad("device", cfg.device, "CUDA is not available here (use auto or cpu)");
  return dev;
}

/// The checkpoint to resume from: present, intact and made with the same settings.
std::unique_ptr<Checkpoint> open_resume(const TrainConfig& cfg, const fs::path& ckpt, const torch::Device& dev) {
  if (!fs::exists(ckpt))
    bad("resume", "true", "there is no checkpoint to resume from (" + ckpt.string() + "); drop --resume to start afresh");
  auto resumed = std::make_unique<Checkpoint>(core::read_file(ckpt.string(), "checkpoint", std::uint64_t{1} << 36), ckpt.string(), dev);
  const std::vector<std::string> diff = resume_mismatches(cfg, resumed->state().config);
  if (!diff.empty()) {
    std::string d;
    for (const auto& x : diff) d += (d.empty() ? "" : "; ") + x;
    bad("checkpoint", ckpt.string(), "was made with other settings (" + d + "); resume with the same settings or use another out_dir");
  }
  return resumed;
}

std::pair<Dataset, Dataset> prepare_data(const TrainConfig& cfg, torch::Dtype dtype) {
  Dataset train_set = load(cfg, true), test_set = load(cfg, false);
  if (train_set.size() < cfg.batch_size)
    bad("batch_size", std::to_string(cfg.batch_size), "larger than the training set (" + std::to_string(train_set.size()) + " samples)");
  if (train_set.images.sizes().slice(1) != test_set.images.sizes().slice(1))
    throw DataError(cfg.data_dir + ": the test images are " + shape_text(test_set.images) + " but the training images are " +
                    shape_text(train_set.images) + " (a test set from another data set?)");
  if (test_set.size() < 1) throw DataError(cfg.data_dir + ": the test set holds no samples");
  if (train_set.images.dim() != 4 || train_set.images.size(2) != train_set.images.size(3))
    throw DataError(cfg.data_dir + ": the images are " + shape_text(train_set.images) + "; the models take square images (N x C x H x H)");
  const auto [mean, stdev] = channel_stats(train_set);
  normalize(train_set, mean, stdev);
  normalize(test_set, mean, stdev);
  if (dtype != torch::kFloat) {
    train_set.images = train_set.images.to(dtype);
    test_set.images = test_set.images.to(dtype);
  }
  return {std::move(train_set), std::move(test_set)};
}

torch::nn::Sequential build_model(const TrainConfig& cfg, const Dataset& train_set, const Dataset& test_set, const torch::Device& dev,
                                  torch::Dtype dtype) {
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
  // A model that cannot take these images (VGG's five poolings on 8 x 8, say) fails here, with one
  // line, instead of inside the first step. Eval mode: no running statistics move, no random draws.
  {
    torch::NoGradGuard ng;
    model->eval();
    try {
      (void)model->forward(train_set.images.slice(0, 0, 2).to(dev, dtype));
    } catch (const c10::Error& e) {
      std::string m = e.what_without_backtrace();
      if (m.find('\n') != std::string::npos) m.resize(m.find('\n'));
      throw DataError("model = " + cfg.model + " cannot take images of " + shape_text(train_set.images) + " (" +
                      core::printable(m, 160) + ")");
    }
  }
  model->train();
  return model;
}

/// Refuses a plan that trains no update (the run would report a test accuracy it never measured).
void check_plan(const TrainConfig& cfg, const RegimePlan& plan) {
  if (plan.total < 1)
    bad(cfg.epochs > 0 ? "epochs" : "regime_scale", num(cfg.epochs > 0 ? cfg.epochs : cfg.regime_scale),
        "gives no update (" + std::to_string(plan.per_epoch) + " updates per epoch); train at least one");
}

/// Data-parallel: meets the other workers (once every local check has passed); a fresh run starts
/// every worker from rank 0's weights (the seed makes them equal anyway).
std::unique_ptr<Communicator> connect(const TrainConfig& cfg, const torch::Device& dev, torch::nn::Module& model) {
  DistOptions d;
  d.rank = cfg.rank;
  d.world_size = cfg.world_size;
  d.master_addr = cfg.master_addr;
  d.master_port = cfg.master_port;
  d.timeout_seconds = cfg.dist_timeout;
  auto comm = std::make_unique<Communicator>(d, dev);
  if (!cfg.resume) {
    std::vector<torch::Tensor> state = model.parameters();
    for (auto& b : model.buffers()) state.push_back(b);
    comm->broadcast(state);
  }
  return comm;
}

}  // namespace

std::pair<Dataset, Dataset> training_data(const TrainConfig& cfg) {
  return prepare_data(cfg, cfg.dtype == "float64" ? torch::kDouble : torch::kFloat);
}

torch::nn::Sequential run_model(const TrainConfig& cfg, const Dataset& train_set, const Dataset& test_set, const torch::Device& device) {
  return build_model(cfg, train_set, test_set, device, cfg.dtype == "float64" ? torch::kDouble : torch::kFloat);
}

void preflight(const TrainConfig& cfg) {
  cfg.validate();
  const torch::Device dev = select_device(cfg);
  const torch::Dtype dtype = cfg.dtype == "float64" ? torch::kDouble : torch::kFloat;
  if (cfg.resume) (void)open_resume(cfg, fs::path(cfg.out_dir) / "checkpoint.pt", dev);
  const auto [train_set, test_set] = prepare_data(cfg, dtype);
  check_plan(cfg, plan_regime(cfg, train_set.size()));
  (void)build_model(cfg, train_set, test_set, dev, dtype);
  if (cfg.out_dir.empty()) bad("out_dir", "\"\"", "must name a folder");
  // Whether the folder can be made and written, without making it (a check leaves nothing behind).
  core::check_output_file("out_dir", (fs::path(cfg.out_dir) / "config.json").string());
}

TrainSummary train(const TrainConfig& cfg, const std::function<void(int64_t, int64_t)>& on_update) {
  cfg.validate();
  const auto t_start = std::chrono::steady_clock::now();
  const torch::Device dev = select_device(cfg);
  const torch::Dtype dtype = cfg.dtype == "float64" ? torch::kDouble : torch::kFloat;
  const bool lead = cfg.rank == 0;  // rank 0 evaluates, reports and writes every file
  const bool progress = cfg.progress && lead;
  const fs::path out(cfg.out_dir);
  const fs::path ckpt = out / "checkpoint.pt";
  // Everything is checked before anything is written: the output folder, the checkpoint to resume
  // (present, readable, made with the same settings), the data, the model.
  std::unique_ptr<Checkpoint> resumed = cfg.resume ? open_resume(cfg, ckpt, dev) : nullptr;

  const auto [train_set, test_set] = prepare_data(cfg, dtype);

  const Regime regime = resolve_regime(cfg);
  const RegimePlan plan = plan_regime(cfg, train_set.size());
  check_plan(cfg, plan);
  const int64_t per_epoch = plan.per_epoch;
  const int64_t total_it = plan.total;
  const LrScaling scaling = parse_lr_scaling(cfg.lr_scaling);

  torch::nn::Sequential model = build_model(cfg, train_set, test_set, dev, dtype);
  // The output folder last: a refused run leaves no new folder behind.
  if (lead) core::check_output_dir("out_dir", cfg.out_dir);

  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(regime.phases.front().lr)
                                                 .momentum(regime.phases.front().momentum)
                                                 .nesterov(cfg.nesterov && regime.phases.front().momentum > 0));
  WeightDistance dist(*model);
  Probes probe;
  {
    const int64_t n = std::min(cfg.probe_size, train_set.size()), nt = std::min(cfg.probe_size, test_set.size());
    probe.train = {train_set.images.narrow(0, 0, n).to(dev), train_set.labels.narrow(0, 0, n).to(dev)};
    probe.test = {test_set.images.narrow(0, 0, nt).to(dev), test_set.labels.narrow(0, 0, nt).to(dev)};
    probe.train0 = probe_loss(model, probe.train);
    probe.test0 = probe_loss(model, probe.test);
  }

  int64_t it = 0, start_epoch = 0, resumed_clipped = 0;
  json metrics = json::array(), distances = json::array(), noise = json::array();
  if (resumed) {
    std::map<std::string, torch::Tensor> w0 = dist.initial();
    resumed->restore(*model, opt, w0, dev);
    dist.set_initial(std::move(w0));
    const CheckpointState& st = resumed->state();
    it = st.iteration;
    start_epoch = st.epoch;
    probe.train0 = st.probe0;
    probe.test0 = st.probe_test0;
    noise = st.noise;
    metrics = st.metrics;
    distances = st.distances;
    resumed_clipped = st.clipped;
    resumed.reset();
    if (progress) std::cerr << "resumed from " << ckpt.string() << " at epoch " << start_epoch << ", iteration " << it << '\n';
  }

  // Data-parallel: meet the other workers once every local check has passed.
  std::unique_ptr<Communicator> comm = cfg.world_size > 1 ? connect(cfg, dev, *model) : nullptr;
  if (lead) {
    json j = cfg;
    j["schedule"] = regime_json(resolve_regime(cfg));  // what lr, lr_schedule, momentum, weight_decay resolve to
    write_atomic(out / "config.json", j.dump(2) + "\n");
  }

  if (comm) {
    // Dropout draws from the default generator: give each worker its own stream (otherwise the
    // workers' slices would share masks), a function of (seed, rank, iteration) so that a resumed
    // job continues deterministically.
    const uint64_t s = core::Stream(cfg.seed, core::StreamPurpose::kStart, static_cast<uint32_t>(cfg.rank), static_cast<uint32_t>(it))(1)[0];
    torch::manual_seed(s);
  }

  int64_t clipped = resumed_clipped;  // updates clipped so far
  auto save_all = [&](int64_t epoch_done) {
    // The checkpoint first: the logs never run ahead of the state a resume continues from.
    CheckpointState st;
    st.iteration = it;
    st.epoch = epoch_done;
    st.probe0 = probe.train0;
    st.probe_test0 = probe.test0;
    st.noise = noise;
    st.metrics = metrics;
    st.distances = distances;
    st.world_size = cfg.world_size;
    st.clipped = clipped;
    st.config = cfg;
    write_atomic(ckpt, checkpoint_bytes(*model, opt, dist.initial(), st));
    write_atomic(out / run_log::kDistanceFile, run_log::distance_csv(distances));
    write_atomic(out / run_log::kLayersFile, run_log::layers_jsonl(distances));
    write_atomic(out / run_log::kMetricsJsonFile, run_log::metrics_jsonl(metrics));
    write_atomic(out / run_log::kMetricsFile, run_log::metrics_csv(metrics));
    if (cfg.noise_scale) write_atomic(out / run_log::kNoiseFile, run_log::noise_csv(noise));
  };
  // Snapshots of the weights after the listed updates (0: before the first).
  auto snapshot_if_due = [&]() {
    if (!lead || std::find(cfg.snapshot_iterations.begin(), cfg.snapshot_iterations.end(), it) == cfg.snapshot_iterations.end()) return;
    fs::create_directories(out / run_log::kSnapshotDir);
    write_atomic(out / run_log::kSnapshotDir / run_log::snapshot_file(it), snapshot_bytes(*model));
  };
  if (it == 0) snapshot_if_due();
  size_t noise_epoch_start = noise.size();  // noise rows of the current epoch start here

  const bool tty = progress && isatty(STDERR_FILENO) != 0;
  std::unique_ptr<GradientAllReduce> grads;
  if (comm) grads = std::make_unique<GradientAllReduce>(model->parameters(), *comm);
  double step_time = 0, allreduce_time = 0;
  const bool augment = cfg.augment && (cfg.dataset == "cifar10" || cfg.dataset == "cifar100");
  double last_lr = 0, epoch_loss = 0, last_test_loss = 0, last_acc = 0;
  if (!metrics.empty()) {  // resumed: a run that had finished its last epoch reports that epoch
    const json& m = metrics.back();
    last_lr = m[run_log::kLr].get<double>();
    epoch_loss = m[run_log::kTrainLoss].get<double>();
    last_test_loss = m[run_log::kTestLoss].get<double>();
    last_acc = m[run_log::kTestAccuracy].get<double>();
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
      last_lr = scaled_lr(ph.lr, cfg.batch_size, cfg.lr_reference(), scaling,
                          static_cast<double>(epoch) + static_cast<double>(b) / static_cast<double>(per_epoch), cfg.warmup_epochs);
      auto& o = static_cast<torch::optim::SGDOptions&>(opt.param_groups()[0].options());
      o.lr(last_lr).momentum(ph.momentum).weight_decay(ph.weight_decay).nesterov(cfg.nesterov && ph.momentum > 0);
      const torch::Tensor x = batch.x.to(dev, dtype), y = batch.y.to(dev);
      // The noise scale at the weights this update starts from: one worker, from micro-batches of its
      // batch (an extra forward and backward, before the update's own: outside its time); data-parallel,
      // from the workers' gradients (below). A non-finite loss gives no row; the update's check stops the run.
      json noise_row;
      const bool noise_now = cfg.noise_scale && run_log::noise_due(it + 1);
      if (noise_now && !grads && x.size(0) >= 2) {
        const NoiseEstimate e = gradient_noise_scale(*model, [&model](const torch::Tensor& v) { return model->forward(v); }, x, y,
                                                     noise_micro_batch(x.size(0), cfg.ghost_batch_size));
        if (std::isfinite(e.trace) && std::isfinite(e.grad_sq))
          noise_row = {{run_log::kIteration, it + 1},
                     {run_log::kEpoch, static_cast<double>(it) / static_cast<double>(per_epoch)},
                     {run_log::kTrace, e.trace},
                     {run_log::kGradSq, e.grad_sq},
                     {run_log::kGroupSize, e.group_size},
                     {run_log::kGroups, e.groups}};
        if (!noise_row.is_null() && std::isfinite(e.b_simple)) noise_row[run_log::kBSimple] = e.b_simple;
      }
      const auto t_step = std::chrono::steady_clock::now();
      opt.zero_grad();
      const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
      // The global batch's mean loss: the workers' slices are equal, so it is the mean of theirs.
      const double lv = comm ? comm->allreduce_mean(loss.item<double>()) : loss.item<double>();
      if (!std::isfinite(lv)) {
        throw core::RuntimeError("iteration " + std::to_string(it + 1) + " (epoch " + std::to_string(epoch) + "): the loss is " +
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
      if (noise_now && grads && std::isfinite(grad_norm)) {
        // Data-parallel: the workers' gradients against the all-reduced one, at no extra pass (one scalar all-reduce).
        const double local_sq = comm->allreduce_mean(grads->local_grad_sq());  // mean over workers of |g_k|^2
        const int64_t w = cfg.world_size;
        const NoiseEstimate e = noise_from_groups(local_sq * static_cast<double>(w), grad_norm * grad_norm, w, cfg.batch_size / w);
        noise_row = {{run_log::kIteration, it + 1},
                     {run_log::kEpoch, static_cast<double>(it) / static_cast<double>(per_epoch)},
                     {run_log::kTrace, e.trace},
                     {run_log::kGradSq, e.grad_sq},
                     {run_log::kGroupSize, e.group_size},
                     {run_log::kGroups, e.groups}};
        if (std::isfinite(e.b_simple)) noise_row[run_log::kBSimple] = e.b_simple;
      }
      if (lead && !noise_row.is_null()) noise.push_back(noise_row);
      opt.step();
      step_time += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_step).count();
      ++it;
      snapshot_if_due();
      loss_sum += lv;
      ++n_batches;
      if (lead && distance_due(it, cfg.distance_per_decade))
        distances.push_back(distance_row(model, dist, probe, it, static_cast<double>(it) / static_cast<double>(per_epoch), lv,
                                         grad_norm, clipped));
      if (tty && (b % 10 == 0 || it == total_it)) {
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count();
        const double rate = static_cast<double>(it - it_at_start) / std::max(el, 1e-9);
        std::fprintf(stderr, "\repoch %lld  it %lld/%lld  loss %.4f  lr %.4g  %.0f samples/s  ETA %.0f s\033[K",
                     static_cast<long long>(epoch + 1), static_cast<long long>(it), static_cast<long long>(total_it), lv, last_lr,
                     rate * static_cast<double>(cfg.batch_size), static_cast<double>(total_it - it) / std::max(rate, 1e-9));
      }
      if (on_update) on_update(it, total_it);
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
    metrics.push_back({{run_log::kEpoch, static_cast<double>(it) / static_cast<double>(per_epoch)},
                       {run_log::kIteration, it},
                       {run_log::kLr, last_lr},
                       {run_log::kTrainLoss, epoch_loss},
                       {run_log::kTestLoss, last_test_loss},
                       {run_log::kTestAccuracy, last_acc},
                       {run_log::kDistance, distance},
                       {run_log::kSeconds, secs}});
    if (cfg.noise_scale) {
      // The epoch's noise scale: mean trace over mean |G|^2 of its rows.
      double tr = 0, g2 = 0;
      for (size_t k = noise_epoch_start; k < noise.size(); ++k) {
        tr += noise[k][run_log::kTrace].get<double>();
        g2 += noise[k][run_log::kGradSq].get<double>();
      }
      metrics.back()[run_log::kNoiseScale] = noise.size() > noise_epoch_start && g2 > 0 ? json(tr / g2) : json(nullptr);
      noise_epoch_start = noise.size();
    }
    if (progress) {
      if (tty) std::fprintf(stderr, "\n");
      std::fprintf(stderr, "epoch %lld: train loss %.4f, test loss %.4f, test accuracy %.2f%%, ||w - w0|| %.3f\n",
                   static_cast<long long>(epoch + 1), epoch_loss, last_test_loss, 100 * last_acc, distance);
    }
    save_all(epoch + 1);
    if (comm) comm->barrier(std::max(3600.0, cfg.dist_timeout));
  }
  TrainSummary s;
  if (lead) std::tie(s.train_loss, s.train_accuracy) = evaluate(model, train_set, dev);
  s.iterations = it;
  s.epochs = static_cast<double>(it) / static_cast<double>(per_epoch);
  s.final_train_loss = epoch_loss;
  s.test_accuracy = last_acc;
  s.test_loss = last_test_loss;
  s.final_distance = dist.total(*model);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  s.device = dev.str();
  if (dev.is_cpu()) s.blas = core::blas_kernel_name();
  s.world_size = cfg.world_size;
  const double steps_here = static_cast<double>(std::max<int64_t>(1, it - it_at_start));
  s.step_seconds = step_time / steps_here;
  s.allreduce_seconds = allreduce_time / steps_here;
  s.schedule = regime;
  for (auto& ph : s.schedule.phases) ph.lr = scaled_lr(ph.lr, cfg.batch_size, cfg.lr_reference(), scaling);
  s.first_drop = plan.first_drop;
  s.updates_per_epoch = per_epoch;
  if (comm) comm->barrier();  // nobody leaves while another still needs it
  if (!lead) return s;
  write_summary(out / "summary.json", s, cfg.batch_size);
  return s;
}

namespace {

void write_summary(const fs::path& file, const TrainSummary& s, int64_t batch_size) {
  write_atomic(file, summary_json(s, batch_size).dump(2) + "\n");
}

}  // namespace

namespace {
nlohmann::json schedule_json(const TrainSummary& s) {
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : s.schedule.phases)
    phases.push_back({{"start", p.start}, {"lr", p.lr}, {"momentum", p.momentum}, {"weight_decay", p.weight_decay}});
  return {{"unit", s.schedule.unit == RegimeUnit::kEpoch ? "epoch" : "iteration"},
          {"length", s.schedule.length},
          {"first_drop_update", s.first_drop},
          {"updates_per_epoch", s.updates_per_epoch},
          {"phases", phases}};
}
}  // namespace

nlohmann::json summary_json(const TrainSummary& s, int64_t batch_size) {
  return {{"iterations", s.iterations},
                   {"epochs", s.epochs},
                   {"final_train_loss", s.final_train_loss},
                   {"train_accuracy", s.train_accuracy},
                   {"train_loss", s.train_loss},
                   {"test_accuracy", s.test_accuracy},
                   {"test_loss", s.test_loss},
                   {"final_distance", s.final_distance},
                   {"seconds", s.seconds},
                   {"device", s.device},
                   {"world_size", s.world_size},
                   {"step_seconds", s.step_seconds},
                   {"allreduce_seconds", s.allreduce_seconds},
                   {"blas", s.blas},
                   {"samples_per_second", s.step_seconds > 0 ? static_cast<double>(batch_size) / s.step_seconds : 0.0},
                   {"schedule", schedule_json(s)}};
}

}  // namespace gengap::train
