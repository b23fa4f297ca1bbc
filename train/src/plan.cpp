// The regime a config resolves to, and what it plans on a training set: used by the trainer and the repro.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gengap/train/regime.hpp"
#include "gengap/train/trainer.hpp"
#include "internal.hpp"

namespace gengap::train {
using detail::bad;
using detail::num;

namespace {
/// Parses lr_schedule ("epoch:lr,..."), taking momentum and weight decay from `authors`.
std::vector<RegimePhase> parse_lr_schedule(const std::string& text, const Regime& authors) {
  std::vector<RegimePhase> out;
  std::size_t a = 0;
  while (a <= text.size()) {
    const std::size_t b = std::min(text.find(',', a), text.size());
    const std::string item = text.substr(a, b - a);
    const std::size_t colon = item.find(':');
    if (colon == std::string::npos) bad("lr_schedule", text, "expected epoch:lr pairs separated by commas, e.g. 0:0.1,10:0.01");
    double start = 0, lr = 0;
    try {
      std::size_t used = 0;
      start = std::stod(item.substr(0, colon), &used);
      if (used != colon) throw std::invalid_argument("trailing");
      const std::string l = item.substr(colon + 1);
      lr = std::stod(l, &used);
      if (used != l.size() || l.empty()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      bad("lr_schedule", text, "\"" + item + "\" is not epoch:lr (two decimal numbers)");
    }
    if (!std::isfinite(start) || !std::isfinite(lr) || lr < 0 || start < 0)
      bad("lr_schedule", text, "\"" + item + "\": epochs and learning rates must be finite and >= 0");
    if (out.empty() && start != 0) bad("lr_schedule", text, "the first phase must start at epoch 0");
    if (!out.empty() && !(start > out.back().start)) bad("lr_schedule", text, "the epochs must increase");
    RegimePhase p = authors.at(start);
    p.start = start;
    p.lr = lr;
    out.push_back(p);
    a = b + 1;
  }
  return out;
}
}  // namespace

nlohmann::json regime_json(const Regime& r) {
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : r.phases) phases.push_back({{"start", p.start}, {"lr", p.lr}, {"momentum", p.momentum}, {"weight_decay", p.weight_decay}});
  return {{"unit", r.unit == RegimeUnit::kEpoch ? "epoch" : "iteration"}, {"length", r.length}, {"phases", phases}};
}

Regime resolve_regime(const TrainConfig& c) {
  Regime regime = authors_regime(c.model);
  if (!c.lr_schedule.empty()) {
    regime.phases = parse_lr_schedule(c.lr_schedule, regime);
    if (c.epochs <= 0 && regime.unit == RegimeUnit::kEpoch && !(regime.length > regime.phases.back().start))
      bad("lr_schedule", c.lr_schedule, "its last phase starts at or after the regime's length (" + num(regime.length) + " epochs); set epochs");
  }
  for (auto& p : regime.phases) {
    if (c.momentum >= 0) p.momentum = c.momentum;
    if (c.weight_decay >= 0) p.weight_decay = c.weight_decay;
  }
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
