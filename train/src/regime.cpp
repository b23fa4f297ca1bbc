// Regimes, learning-rate scaling and regime adaptation.
#include "gengap/train/regime.hpp"

#include <cmath>
#include <stdexcept>

#include "gengap/core/error.hpp"

namespace gengap::train {

const RegimePhase& Regime::at(double position) const {
  if (phases.empty()) throw core::InputError("regime: no phases");
  const RegimePhase* p = &phases.front();
  for (const auto& ph : phases)
    if (ph.start <= position) p = &ph;
  return *p;
}

void Regime::validate() const {
  if (phases.empty() || phases.front().start != 0) throw core::InputError("regime: the first phase must start at 0");
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (i > 0 && phases[i].start <= phases[i - 1].start)
      throw core::InputError("regime: phase starts must increase (" + std::to_string(phases[i].start) + ")");
    if (!(phases[i].lr >= 0)) throw core::InputError("regime: lr = " + std::to_string(phases[i].lr) + ": must be >= 0");
    if (!(phases[i].momentum >= 0 && phases[i].momentum < 1))
      throw core::InputError("regime: momentum = " + std::to_string(phases[i].momentum) + ": must lie in [0, 1)");
    if (!(phases[i].weight_decay >= 0))
      throw core::InputError("regime: weight_decay = " + std::to_string(phases[i].weight_decay) + ": must be >= 0");
  }
  if (!(length > 0)) throw core::InputError("regime: length = " + std::to_string(length) + ": must be > 0");
}

namespace {
Regime make(std::vector<std::pair<double, double>> lrs, double momentum, double wd, double length) {
  Regime r;
  for (auto [start, lr] : lrs) r.phases.push_back({start, lr, momentum, wd});
  r.length = length;
  return r;
}
}  // namespace

Regime authors_regime(const std::string& m) {
  if (m == "f1") return make({{0, 0.1}, {10, 0.01}, {20, 0.001}, {30, 0.0001}}, 0.9, 1e-4, 40);
  if (m.rfind("resnet", 0) == 0 || m == "vgg")
    return make({{0, 0.1}, {81, 0.01}, {122, 0.001}, {164, 0.0001}}, 0.9, 1e-4, 200);
  if (m == "wresnet16-4") return make({{0, 0.1}, {60, 0.02}, {120, 0.004}, {140, 0.0001}}, 0.9, 1e-4, 160);  // wd 1e-4, as the authors' code
  if (m == "c1" || m == "c3") return make({{0, 0.001}, {60, 0.01}, {120, 0.001}, {180, 0.0001}}, 0.0, 5e-4, 240);
  if (m == "alexnet") {
    Regime r = make({{0, 0.01}, {10, 0.005}, {15, 0.001}, {20, 0.0005}, {25, 0.0001}}, 0.9, 5e-4, 30);
    for (std::size_t i = 2; i < r.phases.size(); ++i) r.phases[i].weight_decay = 0;  // wd 0 from epoch 15
    return r;
  }
  throw core::InputError("no built-in regime for model = " + m);
}

LrScaling parse_lr_scaling(const std::string& s) {
  if (s == "none") return LrScaling::kNone;
  if (s == "sqrt") return LrScaling::kSqrt;
  if (s == "linear") return LrScaling::kLinearWarmup;
  throw core::InputError("lr_scaling = " + s + ": expected none, sqrt or linear");
}

double scaled_lr(double lr, int64_t batch, int64_t small, LrScaling scaling, double epoch, double warmup) {
  if (batch < 1 || small < 1) throw core::InputError("scaled_lr: batch sizes must be >= 1");
  const double k = static_cast<double>(batch) / static_cast<double>(small);
  switch (scaling) {
    case LrScaling::kNone:
      return lr;
    case LrScaling::kSqrt:
      return lr * std::sqrt(k);
    case LrScaling::kLinearWarmup:
      // Below the reference batch the lr only shrinks: no warm-up.
      if (k > 1 && warmup > 0 && epoch < warmup) return lr * (1 + (k - 1) * epoch / warmup);
      return lr * k;
  }
  return lr;
}

Regime adapt_regime(const Regime& r, int64_t batch, int64_t small) {
  if (batch < 1 || small < 1) throw core::InputError("adapt_regime: batch sizes must be >= 1");
  if (r.unit == RegimeUnit::kIteration) return r;
  const double f = std::ceil(static_cast<double>(batch) / static_cast<double>(small));
  Regime out = r;
  for (auto& p : out.phases) p.start *= f;
  out.length *= f;
  return out;
}

}  // namespace gengap::train
