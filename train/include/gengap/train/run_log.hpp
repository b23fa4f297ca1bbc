/// @file run_log.hpp
/// @brief The columns of a training run's logs, named once: the trainer writes them and the
/// reproduction reads them by these names.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace gengap::train::run_log {

/// distance.csv: one row per recorded update (every update to 100, then log-spaced).
inline constexpr const char* kDistanceFile = "distance.csv";
inline constexpr const char* kIteration = "iteration";             ///< updates done (1-based)
inline constexpr const char* kEpoch = "epoch";                     ///< iteration / updates per epoch
inline constexpr const char* kLoss = "loss";                       ///< the batch's training loss
inline constexpr const char* kDistance = "distance";               ///< ||w_t - w_0|| over all trainable parameters
inline constexpr const char* kProbeLossDelta = "probe_loss_delta"; ///< L(w_t) - L(w_0) on the training probe set (first probe_size
                                                                   ///< training samples; batch norm on the whole probe's statistics at w)
inline constexpr const char* kProbeTestLossDelta = "probe_test_loss_delta"; ///< the same on the first probe_size test samples
inline constexpr const char* kGradNorm = "grad_norm";              ///< the gradient's norm before clipping, this update
inline constexpr const char* kClipped = "clipped";                 ///< updates clipped so far (cumulative count)

/// distance_layers.jsonl: per recorded update, "layers" (distance per layer) and "weights" (per
/// parameter of two or more dimensions: "norm" ||W_t||, "norm0" ||W_0||, "cos" the cosine between
/// W_t and W_0; radial change norm - norm0, angular change acos(cos)).
inline constexpr const char* kLayersFile = "distance_layers.jsonl";

/// metrics.csv: one row per epoch.
inline constexpr const char* kMetricsFile = "metrics.csv";
inline constexpr const char* kLr = "lr";                           ///< the learning rate of the epoch's last update
inline constexpr const char* kTrainLoss = "train_loss";            ///< mean training loss of the epoch
inline constexpr const char* kTestLoss = "test_loss";              ///< mean test loss after the epoch
inline constexpr const char* kTestAccuracy = "test_accuracy";      ///< test accuracy after the epoch, in [0, 1]
inline constexpr const char* kSeconds = "seconds";                 ///< wall-clock seconds since the run started
/// metrics.jsonl: the same records as metrics.csv, one JSON object per line, plus kNoiseScale.
inline constexpr const char* kMetricsJsonFile = "metrics.jsonl";
/// metrics.jsonl: the epoch's gradient noise scale, mean trace / mean |G|^2 over its noise.csv rows
/// (McCandlish et al. average numerator and denominator separately); null when it has none or the
/// mean |G|^2 is not > 0.
inline constexpr const char* kNoiseScale = "noise_scale";

/// noise.csv: the gradient noise scale (noise_scale.hpp) at the weights before an update, about ten
/// times per decade of updates (noise_due()). One worker: from micro-batches of that update's batch
/// (an extra forward and backward). Data-parallel: from the workers' gradients against the all-reduced
/// one, at no extra pass (groups = workers, group_size = batch / workers).
inline constexpr const char* kNoiseFile = "noise.csv";
inline constexpr const char* kTrace = "trace";            ///< tr(Sigma), per-sample gradient covariance trace
inline constexpr const char* kGradSq = "grad_sq";         ///< |G|^2, unbiased
inline constexpr const char* kBSimple = "b_simple";       ///< trace / grad_sq; -1 when grad_sq <= 0 (undefined)
inline constexpr const char* kGroupSize = "group_size";   ///< samples per micro-batch
inline constexpr const char* kGroups = "groups";          ///< micro-batches
/// Whether the noise scale is measured before update `t` (1-based): the first update in each tenth
/// of a decade, so every update up to 10 and then about ten per decade.
bool noise_due(long long t);

/// Folder of the weight snapshots (TrainConfig::snapshot_iterations) inside out_dir.
inline constexpr const char* kSnapshotDir = "snapshots";
/// The snapshot file of iteration `t` inside kSnapshotDir: "w_<t>.pt" (train::snapshot_bytes()).
std::string snapshot_file(long long t);

/// distance.csv's text: a header, then one row per recorded update (objects with the columns above).
std::string distance_csv(const nlohmann::json& rows);
/// distance_layers.jsonl's text: per recorded update, its iteration with "layers" and "weights".
std::string layers_jsonl(const nlohmann::json& rows);
/// metrics.csv's text: a header (epoch, iteration, lr, train_loss, test_loss, test_accuracy, distance,
/// seconds), then one row per epoch record.
std::string metrics_csv(const nlohmann::json& epochs);
/// noise.csv's text: iteration, epoch, trace, grad_sq, b_simple, group_size, groups (and the worker_
/// columns when the rows have them).
std::string noise_csv(const nlohmann::json& rows);
/// metrics.jsonl's text: one epoch record per line.
std::string metrics_jsonl(const nlohmann::json& epochs);

}  // namespace gengap::train::run_log
