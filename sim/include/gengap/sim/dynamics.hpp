/// @file dynamics.hpp
/// @brief Hopping rules: nearest-neighbour, discrete time, detailed balance at temperature T.
#pragma once

#include <string>

namespace gengap::sim {

/// A discrete-time hopping rule. Each step the walker at x picks a neighbour y = x +- 1 with
/// probability 1/2 and moves there with probability accept((V(y) - V(x)) / T); otherwise it stays.
/// accept(u) / accept(-u) must equal exp(-u) (detailed balance with pi(x) ~ exp(-V(x)/T)).
class Dynamics {
 public:
  virtual ~Dynamics() = default;
  /// Short name, e.g. "metropolis".
  virtual std::string name() const = 0;
  /// Acceptance probability of a move that changes the energy by u temperatures (u = dV / T).
  virtual double accept(double u) const = 0;
};

/// The probability of one step to one given neighbour out of `neighbours` (2 on the line, 2d on
/// Z^d): the neighbour is picked with probability 1 / neighbours, then the move accepted with
/// dynamics.accept(u), u = (V(y) - V(x)) / T. The one place this product is written: the hop table,
/// the exact master equation and the walkers all follow it.
inline double hop_probability(const Dynamics& dynamics, double u, int neighbours = 2) {
  return dynamics.accept(u) / neighbours;
}

}  // namespace gengap::sim
