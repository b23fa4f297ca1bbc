// The regime a config resolves to, and what it plans on a training set: used by the trainer and the repro.
#include <algorithm>
#include <cmath>

#include "gengap/train/regime.hpp"
#include "gengap/train/trainer.hpp"
#include "internal.hpp"

namespace gengap::train {
using detail::bad;
using detail::num;

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
  if (c.regime_adaptation) regime = adapt_regime(regime, c.batch_size, c.adaptation_reference());
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

}  // namespace gengap::train
