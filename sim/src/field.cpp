// Continuous landscapes: random Fourier modes with a power-law structure function, a quadratic well.
#include "gengap/sim/field.hpp"

#include <cmath>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

void FourierField::check_options(const FourierFieldOptions& o) {
  require(o.dim >= 1, "dim", o.dim, "must be >= 1");
  require(o.modes >= 1, "modes", o.modes, "must be >= 1");
  require(o.alpha > 0 && o.alpha < 2, "alpha", o.alpha, "must lie in (0, 2)");
  require(o.k_min > 0 && std::isfinite(o.k_min), "k_min", o.k_min, "must be > 0");
  require(o.k_max > o.k_min && std::isfinite(o.k_max), "k_max", o.k_max, "must be finite and > k_min");
  require(o.strength > 0 && std::isfinite(o.strength), "strength", o.strength, "must be > 0");
  core::require_memory("modes", std::to_string(o.modes) + " (dim " + std::to_string(o.dim) + ")",
                       static_cast<double>(o.modes) * (static_cast<double>(o.dim) + 3.0) * 8.0, "modes x (dim + 3) x 8 B");
}

FourierField::FourierField(const FourierFieldOptions& o) {
  check_options(o);
  const int d = o.dim, m = o.modes;
  k_.resize(m, d);
  a_.resize(m);
  phi_.resize(m);
  kappa_.resize(m);
  const double log_span = std::log(o.k_max / o.k_min);
  // E S(r) = (M A / L) x^alpha I(alpha), x = r / sqrt(D), I = 2^(-alpha/2) Gamma(1 - alpha/2) / alpha.
  const double integral = std::pow(2.0, -o.alpha / 2) * std::tgamma(1 - o.alpha / 2) / o.alpha;
  const double amp2 = o.strength * o.strength * log_span / (static_cast<double>(m) * integral);
  const double inv_sqrt_d = 1 / std::sqrt(static_cast<double>(d));
  for (int j = 0; j < m; ++j) {
    const Stream s(o.seed, StreamPurpose::kField, static_cast<std::uint32_t>(j), o.index);
    const Block4x32 b = s(0);
    kappa_[j] = o.k_min * std::exp(log_span * to_open01(b[0]));
    phi_[j] = 6.283185307179586476925 * to_open01(b[1]);
    a_[j] = std::sqrt(amp2 * std::pow(kappa_[j], -o.alpha));
    const double scale = kappa_[j] * inv_sqrt_d;
    for (int c = 0; c < d; c += 2) {
      const auto z = to_normal2(s(1 + static_cast<std::uint64_t>(c / 2)));
      k_(j, c) = scale * z[0];
      if (c + 1 < d) k_(j, c + 1) = scale * z[1];
    }
  }
  cos_phi_ = phi_.array().cos();
}

void FourierField::evaluate(const Eigen::MatrixXd& w, Eigen::VectorXd* values, Eigen::MatrixXd* gradients) const {
  require(w.rows() == k_.cols(), "w", std::to_string(w.rows()) + " rows", "must have dim = " + std::to_string(k_.cols()) + " rows");
  Eigen::MatrixXd z = k_ * w;  // M x n
  z.colwise() += phi_;
  if (values) *values = (z.array().cos().colwise() - cos_phi_.array()).matrix().transpose() * a_;
  if (gradients) {
    // grad V = -sum_j a_j sin(k_j.w + phi_j) k_j
    const Eigen::MatrixXd s = (z.array().sin().colwise() * a_.array()).matrix();
    *gradients = -(k_.transpose() * s);
  }
}

double FourierField::structure_function(double r) const {
  const double x2 = r * r / static_cast<double>(k_.cols());
  double s = 0;
  for (Eigen::Index j = 0; j < a_.size(); ++j) s += a_[j] * a_[j] * -std::expm1(-0.5 * kappa_[j] * kappa_[j] * x2);
  return s;
}

QuadraticField::QuadraticField(int dim, double kappa) : dim_(dim), kappa_(kappa) {
  require(dim >= 1, "dim", dim, "must be >= 1");
  require(kappa > 0 && std::isfinite(kappa), "kappa", kappa, "must be > 0");
}

void QuadraticField::evaluate(const Eigen::MatrixXd& w, Eigen::VectorXd* values, Eigen::MatrixXd* gradients) const {
  require(w.rows() == dim_, "w", std::to_string(w.rows()) + " rows", "must have dim = " + std::to_string(dim_) + " rows");
  if (values) *values = 0.5 * kappa_ * w.colwise().squaredNorm().transpose();
  if (gradients) *gradients = kappa_ * w;
}

}  // namespace gengap::sim
