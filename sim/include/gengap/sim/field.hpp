/// @file field.hpp
/// @brief Continuous landscapes V(w), w in R^D, with exact gradients: a random field with a
/// power-law structure function built from random Fourier modes, and a quadratic well (for checks).
/// They are evaluated for many points at once (columns of a D x n matrix), so the work is two
/// matrix products.
#pragma once

#include <cstdint>
#include <memory>

#include <Eigen/Core>

namespace gengap::sim {

/// A differentiable landscape in D dimensions.
class Field {
 public:
  virtual ~Field() = default;
  /// The dimension D.
  virtual int dim() const = 0;
  /// Values V(w_i) and gradients grad V(w_i) at the columns w_i of `w` (D x n). `values` (n) and
  /// `gradients` (D x n) are resized; either may be null.
  virtual void evaluate(const Eigen::MatrixXd& w, Eigen::VectorXd* values, Eigen::MatrixXd* gradients) const = 0;
};

/// Settings of a FourierField.
struct FourierFieldOptions {
  int dim = 100;            ///< D >= 1
  int modes = 1024;         ///< M >= 1 Fourier modes
  double alpha = 1.0;       ///< structure-function exponent, in (0, 2)
  double k_min = 0.05;      ///< smallest mode frequency kappa; beyond r ~ sqrt(D)/k_min the field saturates
  double k_max = 50.0;      ///< largest kappa; below r ~ sqrt(D)/k_max the field is smooth
  double strength = 1.0;    ///< s: E[(V(w + r u) - V(w))^2] = s^2 (r/sqrt(D))^alpha in the scaling range
  std::uint64_t seed = 1;   ///< master seed
  std::uint32_t index = 0;  ///< which landscape of the seed (environment number)
};

/// V(w) = sum_j a_j [cos(k_j.w + phi_j) - cos(phi_j)], so V(0) = 0. Frequencies kappa_j are
/// log-uniform in [k_min, k_max]; wavevectors k_j = kappa_j g_j / sqrt(D) with g_j standard normal
/// in R^D; phases uniform; a_j^2 = A kappa_j^(-alpha), with A chosen so that for a unit direction u
/// E[(V(w + r u) - V(w))^2] = sum_j a_j^2 (1 - exp(-kappa_j^2 r^2 / (2D))) = s^2 (r/sqrt(D))^alpha
/// for sqrt(D)/k_max << r << sqrt(D)/k_min. With finitely many modes the field is quasi-periodic: its
/// structure function saturates at sum_j a_j^2 beyond r ~ sqrt(D)/k_min, where a walker no longer
/// meets higher barriers. Deterministic in (seed, index).
class FourierField : public Field {
 public:
  /// Draws the modes. @throws InvalidArgument for a bad option (named in the message)
  explicit FourierField(const FourierFieldOptions& o);
  /// Checks the options and the memory of the modes (M x (D + 3) doubles) without drawing them.
  /// @throws InvalidArgument naming the field, the value and the estimate
  static void check_options(const FourierFieldOptions& o);
  int dim() const override { return static_cast<int>(k_.cols()); }
  void evaluate(const Eigen::MatrixXd& w, Eigen::VectorXd* values, Eigen::MatrixXd* gradients) const override;
  /// The structure function these modes give on average over directions and positions:
  /// sum_j a_j^2 (1 - exp(-kappa_j^2 r^2 / (2D))).
  double structure_function(double r) const;
  /// The saturation value sum_j a_j^2 (twice the variance of V about its mean).
  double saturation() const { return a_.squaredNorm(); }
  /// The wavevectors (M x D), amplitudes a_j, phases phi_j and frequencies kappa_j.
  const Eigen::MatrixXd& wavevectors() const { return k_; }
  const Eigen::VectorXd& amplitudes() const { return a_; }   ///< a_j
  const Eigen::VectorXd& phases() const { return phi_; }     ///< phi_j
  const Eigen::VectorXd& frequencies() const { return kappa_; }  ///< kappa_j

 private:
  Eigen::MatrixXd k_;
  Eigen::VectorXd a_, phi_, kappa_, cos_phi_;
};

/// V(w) = (kappa / 2) |w|^2: the Ornstein-Uhlenbeck check of the dynamics.
class QuadraticField : public Field {
 public:
  /// @throws InvalidArgument unless dim >= 1 and kappa > 0
  QuadraticField(int dim, double kappa);
  int dim() const override { return dim_; }
  void evaluate(const Eigen::MatrixXd& w, Eigen::VectorXd* values, Eigen::MatrixXd* gradients) const override;
  /// The curvature kappa.
  double kappa() const { return kappa_; }

 private:
  int dim_;
  double kappa_;
};

}  // namespace gengap::sim
