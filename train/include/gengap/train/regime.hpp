/// @file regime.hpp
/// @brief Training regimes (piecewise schedules of learning rate, momentum and weight decay),
/// learning-rate scaling for large batches, and regime adaptation (Hoffer et al. 2017, section 4).
#pragma once

#include <string>
#include <vector>

namespace gengap::train {

/// What a regime's keys count.
enum class RegimeUnit { kEpoch, kIteration };

/// One phase of a regime: from `start` (epoch or iteration) on, these settings hold.
struct RegimePhase {
  double start = 0;          ///< first epoch (or iteration) of the phase
  double lr = 0.1;           ///< learning rate
  double momentum = 0.9;     ///< SGD momentum
  double weight_decay = 0;   ///< L2 weight decay
};

/// A piecewise-constant schedule. Phases are sorted by start; the first starts at 0.
struct Regime {
  RegimeUnit unit = RegimeUnit::kEpoch;  ///< what `start` and `length` count
  std::vector<RegimePhase> phases;       ///< the phases, in order
  double length = 0;                     ///< total epochs (or iterations) of training
  /// The phase in force at `position` (epochs, possibly fractional, or iterations).
  const RegimePhase& at(double position) const;
  /// Throws std::invalid_argument unless the phases are sorted, start at 0, lr >= 0, length > 0.
  void validate() const;
};

/// The authors' schedule for a model ("f1", "c1", "c3", "resnet44"/"resnetN", "vgg",
/// "wresnet16-4", "alexnet"), from their code (see the docs). The total lengths are not in the
/// paper; they are the last milestone plus the length of the phase before it. Throws
/// std::invalid_argument for an unknown model.
Regime authors_regime(const std::string& model);

/// How the learning rate follows the batch size B relative to the small (ghost) batch B_s.
enum class LrScaling {
  kNone,          ///< lr unchanged
  kSqrt,          ///< lr * sqrt(B / B_s): keeps the covariance of the weight increments (the paper)
  kLinearWarmup,  ///< lr * B / B_s after a linear warm-up from lr (Goyal et al. 2017); below B_s no warm-up
};

/// Parses "none", "sqrt" or "linear"; throws std::invalid_argument otherwise.
LrScaling parse_lr_scaling(const std::string& s);
/// The scaled learning rate at `epoch` (warm-up over `warmup_epochs` for kLinearWarmup).
double scaled_lr(double lr, int64_t batch, int64_t small_batch, LrScaling scaling, double epoch = 1e9,
                 double warmup_epochs = 5);

/// Regime adaptation: every epoch key and the length multiplied by ceil(B / B_s), so that each
/// learning-rate drop happens at the iteration count of the small-batch run. Iteration-keyed
/// regimes are returned unchanged (their keys already count updates).
Regime adapt_regime(const Regime& r, int64_t batch, int64_t small_batch);

}  // namespace gengap::train
