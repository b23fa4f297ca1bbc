// TrainConfig: validation, JSON (strict: unknown or mistyped fields are refused), what a resume compares.
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "gengap/core/json.hpp"
#include "gengap/train/models.hpp"
#include "gengap/train/regime.hpp"
#include "gengap/train/trainer.hpp"
#include "internal.hpp"

namespace gengap::train {
using nlohmann::json;
using detail::bad;
using detail::num;

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
  if (lr_reference_batch < 0 || lr_reference_batch == 1)
    bad("lr_reference_batch", std::to_string(lr_reference_batch), "must be >= 2 (0 = ghost_batch_size)");
  if (adaptation_batch < 0 || adaptation_batch == 1) bad("adaptation_batch", std::to_string(adaptation_batch), "must be >= 2 (0 = ghost_batch_size)");
  parse_lr_scaling(lr_scaling);
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
    // A device this machine lacks: refused with the config (the repro checks every run's config
    // before its first experiment), not when the run starts.
    if (device.rfind("cuda", 0) == 0) {
      if (!torch::cuda::is_available()) bad("device", device, "CUDA is not available here (use auto or cpu)");
      if (device.size() > 5 && std::stoll(device.substr(5)) >= static_cast<long long>(torch::cuda::device_count()))
        bad("device", device, "this machine has " + std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    }
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
  for (const auto t : snapshot_iterations)
    if (t < 0) bad("snapshot_iterations", std::to_string(t), "must be >= 0 (0 = the initial weights)");
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
  if (!(dist_timeout > 0) || !(dist_timeout <= 1e6)) bad("dist_timeout", num(dist_timeout), "must lie in (0, 1e6] seconds");
  if (momentum != -1 && !(momentum >= 0 && momentum < 1)) bad("momentum", num(momentum), "must lie in [0, 1) (-1 = the regime's)");
  if (weight_decay != -1 && !(weight_decay >= 0 && std::isfinite(weight_decay)))
    bad("weight_decay", num(weight_decay), "must be finite and >= 0 (-1 = the regime's)");
  (void)resolve_regime(*this);  // lr_schedule's syntax and order
}

#define GENGAP_CONFIG_FIELDS(X)                                                                                      \
  X(model) X(dataset) X(data_dir) X(batch_size) X(ghost_batch_size) X(lr_reference_batch) X(adaptation_batch) X(norm) X(lr_scaling) X(warmup_epochs) \
  X(regime_adaptation) X(regime_scale) X(epochs) X(max_iterations) X(lr) X(lr_schedule) X(momentum) X(weight_decay) X(nesterov) X(clip_norm) X(seed) X(device) X(dtype) X(out_dir)       \
  X(train_subset) X(test_subset) X(synthetic_size) X(synthetic_noise) X(distance_per_decade) X(probe_size) X(noise_scale) X(snapshot_iterations) X(augment) X(resume) X(progress) \
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
  // A run's config.json holds the schedule its fields resolve to, for the reader: accepted when it
  // still matches (the file read back as it was written), refused when edited.
  json schedule;
  r.optional("schedule", schedule);
  r.finish();
  if (!schedule.is_null()) {
    json now;
    try {
      now = regime_json(resolve_regime(c));
    } catch (const core::InputError&) {
      return;  // validate() reports the field at fault
    }
    if (schedule != now)
      bad("schedule", core::json_excerpt(schedule),
          "is what lr, lr_schedule, momentum and weight_decay resolve to (written for the reader), and differs from what they give "
          "now; change those fields, not \"schedule\"" + (where.empty() ? std::string() : " (" + where + ")"));
  }
}

const std::vector<std::string>& resume_fields() {
  // What makes a checkpoint another run: its model and data, how batches and epochs are counted,
  // the normalization, the lr rule and the regime's clock, the seed, the probe, workers and dtype.
  // The lr, clipping, momentum and warm-up may change on purpose (an intervention), as may epochs.
  static const std::vector<std::string> f{"model",          "dataset",         "batch_size",  "ghost_batch_size",
                                          "lr_reference_batch", "adaptation_batch",
                                          "norm",           "lr_scaling",      "regime_adaptation", "regime_scale",
                                          "seed",           "train_subset",    "test_subset", "synthetic_size",
                                          "synthetic_noise", "probe_size",     "world_size",  "dtype"};
  return f;
}

std::vector<std::string> resume_mismatches(const TrainConfig& now, const json& saved) {
  const json cur = now;
  // A field added after the checkpoint was written holds its default there.
  const json defaults = TrainConfig{};
  std::vector<std::string> out;
  for (const auto& k : resume_fields()) {
    const bool added_later = k == "lr_reference_batch" || k == "adaptation_batch";  // (momentum etc. are not resume fields)
    const json a = saved.is_object() && saved.contains(k) ? saved.at(k) : (added_later ? defaults.at(k) : json());
    const json& b = cur.at(k);
    // Numbers compare by value (1 and 1.0 are the same setting).
    const bool same = (a.is_number() && b.is_number()) ? a.get<double>() == b.get<double>() : a == b;
    if (!same) out.push_back(k + " " + core::printable(a.is_null() ? std::string("(not recorded)") : a.dump(), 60) + " in the checkpoint, " +
                             core::printable(b.dump(), 60) + " now");
  }
  return out;
}

}  // namespace gengap::train
