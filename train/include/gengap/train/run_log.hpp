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
inline constexpr const char* kProbeLossDelta = "probe_loss_delta"; ///< L(w_t) - L(w_0) on the probe set
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
/// metrics.jsonl: the same records as metrics.csv, one JSON object per line.
inline constexpr const char* kMetricsJsonFile = "metrics.jsonl";

/// distance.csv's text: a header, then one row per recorded update (objects with the columns above).
std::string distance_csv(const nlohmann::json& rows);
/// distance_layers.jsonl's text: per recorded update, its iteration with "layers" and "weights".
std::string layers_jsonl(const nlohmann::json& rows);
/// metrics.csv's text: a header (epoch, iteration, lr, train_loss, test_loss, test_accuracy, distance,
/// seconds), then one row per epoch record.
std::string metrics_csv(const nlohmann::json& epochs);
/// metrics.jsonl's text: one epoch record per line.
std::string metrics_jsonl(const nlohmann::json& epochs);

}  // namespace gengap::train::run_log
