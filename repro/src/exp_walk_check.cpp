// The walk on an fBm landscape of a measured exponent, fitted like the weight distances.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "common.hpp"
#include "gengap/core/io.hpp"

namespace gengap::repro {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

json run_walk_check(const json& wc, double alpha, const std::string& file, const fs::path& dir, double window_ratio) {
  WalkSpec spec;
  core::ObjectReader r(wc, in_file(file), "walk.");
  spec.read(r, true);
  r.finish();
  // The same number of decades as the training window: one walk step stands for one update, and the
  // walk's window [fit_tmin, fit_tmin x T/t0] is as long, in decades, as the training's [t0, T].
  if (window_ratio > 1) spec.t_max = static_cast<std::uint64_t>(std::ceil(std::max(spec.fit_tmin, 1.0) * window_ratio));
  const sim::FbmPotential pot(alpha, spec.sigma);
  const Walk w = walk(pot, spec, "walk on the measured landscape, alpha = " + fmt(alpha, 3));
  // Distances per environment, sqrt(<x^2>_env), fitted like the weight distances.
  std::vector<double> t;
  std::vector<Eigen::Index> cols;
  for (std::size_t i : log_thin(w.fit.t, 0, spec.per_decade)) {
    t.push_back(w.fit.t[i]);
    cols.push_back(w.fit.columns[i]);
  }
  Eigen::MatrixXd d(w.r.env_msd.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t i = 0; i < cols.size(); ++i) d.col(static_cast<Eigen::Index>(i)) = w.r.env_msd.col(cols[i]).cwiseSqrt();
  const DiffusionFit f = fit_diffusion(t, d, 200, spec.seed, 2 / alpha);
  std::ostringstream os;
  os << std::setprecision(10) << "t,distance,log_fit,power_fit\n";
  const auto& fits = f.fits.fits;
  auto pred = [&fits](const std::string& m, double tt) {
    for (const auto& ft : fits)
      if (ft.model == m) return ft.predict(tt);
    return 0.0;
  };
  for (std::size_t i = 0; i < t.size(); ++i)
    os << t[i] << ',' << d.col(static_cast<Eigen::Index>(i)).mean() << ',' << pred("log-c", t[i]) << ',' << pred("power-offset", t[i])
       << '\n';
  core::write_file_atomic((dir / "walk.csv").string(), os.str());
  return {{"window", {spec.fit_tmin, static_cast<double>(spec.t_max)}},
          {"time_axes", "one walk step = one update; the walk is fitted on [fit_tmin, fit_tmin x T/t0], as many decades as the training window"},
          {"alpha", alpha},          {"predicted_k", 2 / alpha}, {"k", f.k},   {"k_ci", {f.k_ci.lo, f.k_ci.hi}},
          {"beta", f.beta},          {"delta_aic", f.delta_aic}, {"fits", f.fits}, {"seconds", w.r.seconds}};
}

}  // namespace gengap::repro
