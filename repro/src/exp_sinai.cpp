// Experiment "sinai": Sinai's walk against Kesten's law and Golosov's valley bottoms.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "common.hpp"
#include "gengap/core/io.hpp"

namespace gengap::repro {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

struct SinaiConfig {
  std::string potential;
  WalkSpec walk;
  double valley_gamma = 0;
  std::uint32_t valley_samples = 0;
  double kesten_target = 0, tolerance_se_units = 0, valley_level = 0;
  sim::LogTimeRule log_time;
  int blocks = 20;

  static SinaiConfig parse(const json& c, const std::string& file) {
    SinaiConfig s;
    core::ObjectReader r(c, in_file(file));
    read_header(r);
    r.required("potential", s.potential);
    s.walk.read(r, true);
    r.required("valley_gamma", s.valley_gamma);
    r.required("valley_samples", s.valley_samples);
    core::ObjectReader cl = r.child("claims");
    core::ObjectReader k = cl.child("kesten_second_moment");
    k.required("target", s.kesten_target);
    k.required("tolerance_se_units", s.tolerance_se_units);
    k.ignore_notes();
    k.finish();
    core::ObjectReader v = cl.child("valley_ks");
    v.required("level", s.valley_level);
    v.ignore_notes();
    v.finish();
    s.log_time = read_log_time_rule(cl, [&s](core::ObjectReader& lt) { lt.required("blocks", s.blocks); });
    cl.finish();
    r.finish();
    sim::require(s.potential == "sinai-gaussian" || s.potential == "sinai-binary", "potential", s.potential,
                 "a sinai experiment needs a sinai potential " + in_file(file));
    sim::require(s.kesten_target == sim::kKestenSecondMoment, "claims.kesten_second_moment.target", s.kesten_target,
                 "must be Kesten's 61/45 = 1.3555555555555556 " + in_file(file));
    sim::require(s.tolerance_se_units > 0 && std::isfinite(s.tolerance_se_units), "claims.kesten_second_moment.tolerance_se_units",
                 s.tolerance_se_units, "must be > 0 " + in_file(file));
    sim::require(s.valley_level == 0.01, "claims.valley_ks.level", s.valley_level, "only the 1% level is tabulated " + in_file(file));
    sim::require(s.blocks >= 3 && static_cast<std::uint32_t>(s.blocks) <= s.walk.environments, "claims.log_time.blocks", s.blocks,
                 "must lie in [3, environments] " + in_file(file));
    const auto pot = sim::make_potential(s.potential, 1.0, s.walk.sigma);
    s.walk.check(*pot);
    (void)sim::check_valley_request(*pot, s.valley_gamma, s.valley_samples);
    return s;
  }
};

json run(const Context& x) {
  const SinaiConfig c = SinaiConfig::parse(x.config, x.file);
  const fs::path& dir = x.dir;
  const double s = c.walk.sigma;
  const auto pot_ptr = sim::make_potential(c.potential, 1.0, s);
  const sim::Potential& pot = *pot_ptr;
  const Walk w = walk(pot, c.walk, "sinai walk");
  const auto b = bootstrap(w, 4.0, c.walk.seed);
  std::size_t mi = 0;
  const auto& f = model(b, "log-fixed", &mi);
  const double s2 = w.r.sigma2;
  const double est = s2 * s2 * std::pow(f.param("A"), 4);
  const double lo = s2 * s2 * std::pow(b.intervals[mi][0].lo, 4), hi = s2 * s2 * std::pow(b.intervals[mi][0].hi, 4);
  const auto n_env = static_cast<double>(w.r.env_msd.rows());
  const double tol = c.tolerance_se_units * 2.2 / std::sqrt(n_env);
  // sigma^4 <x^2> / (ln t - c)^4 for the figure.
  std::ostringstream os;
  os << std::setprecision(10) << "t,ln_t,msd,ratio\n";
  for (std::size_t i = 0; i < w.r.times.size(); ++i) {
    const double lt = std::log(static_cast<double>(w.r.times[i]));
    if (lt - f.param("c") > 0.5)
      os << w.r.times[i] << ',' << lt << ',' << w.r.msd[i] << ',' << s2 * s2 * w.r.msd[i] / std::pow(lt - f.param("c"), 4) << '\n';
  }
  core::write_file_atomic((dir / "sinai_ratio.csv").string(), os.str());
  // Golosov's valley bottoms from the same environments' potentials.
  const double gamma = c.valley_gamma;
  const auto n_val = c.valley_samples;
  const auto bottoms = sim::sample_valley_bottoms(pot, gamma, n_val, c.walk.seed);
  std::vector<double> scaled;
  for (auto b_x : bottoms) scaled.push_back(s * s * static_cast<double>(b_x) / (gamma * gamma));
  const double ks = sim::ks_distance(scaled, sim::kesten_cdf);
  const double ks_crit = 1.628 / std::sqrt(static_cast<double>(n_val));
  {
    std::ostringstream h;
    h << std::setprecision(8) << "b,empirical_cdf,kesten_cdf\n";
    std::vector<double> sorted = scaled;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t stride = std::max<std::size_t>(1, sorted.size() / 400);
    for (std::size_t i = 0; i < sorted.size(); i += stride)
      h << sorted[i] << ',' << static_cast<double>(i + 1) / static_cast<double>(sorted.size()) << ',' << sim::kesten_cdf(sorted[i]) << '\n';
    core::write_file_atomic((dir / "valley_cdf.csv").string(), h.str());
  }
  json out;
  out["fits"] = b;
  out["sigma2"] = s2;
  out["kesten_estimate"] = {est, lo, hi};
  out["valley"] = {{"gamma", gamma}, {"samples", n_val}, {"ks_distance", ks}, {"ks_critical", ks_crit}};
  out["seconds"] = w.r.seconds;
  out["walker_steps"] = w.r.walker_steps;
  const std::string& name = x.name;
  // The log-time decision on d = sqrt(<x^2>), the environments in blocks (each block's mean <x^2>).
  std::vector<double> tw;
  std::vector<Eigen::Index> cw;
  for (std::size_t i = 0; i < w.r.times.size(); ++i)
    if (static_cast<double>(w.r.times[i]) >= c.walk.fit_tmin && w.r.times[i] > 1) {
      tw.push_back(static_cast<double>(w.r.times[i]));
      cw.push_back(static_cast<Eigen::Index>(i));
    }
  const Eigen::Index per_block = w.r.env_msd.rows() / c.blocks;
  Eigen::MatrixXd blk(c.blocks, static_cast<Eigen::Index>(cw.size()));
  for (int k = 0; k < c.blocks; ++k)
    for (std::size_t q = 0; q < cw.size(); ++q)
      blk(k, static_cast<Eigen::Index>(q)) = std::sqrt(w.r.env_msd.block(k * per_block, cw[q], per_block, 1).mean());
  sim::LogTimeDecision lt;
  if (tw.size() >= 2) lt = sim::decide_log_time(tw, blk, tw.front(), tw.back(), c.log_time);
  out["log_time"] = lt;
  const bool kesten_ok = std::abs(est / sim::kKestenSecondMoment - 1) <= tol;
  Verdict kv{name, "sigma^4 A^4 -> 61/45 (Kesten)", "1.3556", fmt(est) + " [" + fmt(lo) + ", " + fmt(hi) + "]",
             "|estimate / (61/45) - 1| <= " + fmt(tol, 3) + " (" + fmt(c.tolerance_se_units, 3) + " x 2.2/sqrt(" + fmt(n_env, 6) + "), a " +
                 fmt(c.tolerance_se_units, 3) + "-standard-error test)",
             kesten_ok ? sim::Outcome::kSupported : sim::Outcome::kFalsified,
             kesten_ok ? "the estimate lies within the tolerance of 61/45" : "the estimate lies outside the tolerance of 61/45"};
  Verdict vv{name, "valley bottoms follow Kesten's law (Golosov)", "KS < " + fmt(ks_crit, 3), fmt(ks, 3),
             "Kolmogorov-Smirnov at the 1% level, N = " + std::to_string(n_val), ks < ks_crit ? sim::Outcome::kSupported : sim::Outcome::kFalsified,
             ks < ks_crit ? "the KS distance is below the 1% critical value" : "the KS distance exceeds the 1% critical value"};
  out["verdicts"] = {kv, vv, log_time_verdict(name, {lt}, {"sqrt(<x^2>), " + std::to_string(c.blocks) + " blocks of environments"}, c.log_time)};
  write_series_csv(dir / "series.csv", w.r, s2 * s2);
  return out;
}

}  // namespace

ExperimentKind sinai_kind() {
  return {"sinai", [](const Context& x) { (void)SinaiConfig::parse(x.config, x.file); }, run};
}

}  // namespace gengap::repro
