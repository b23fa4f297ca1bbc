// Experiment "sinai": Sinai's walk against Kesten's law and Golosov's valley bottoms.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "cli.hpp"
#include "common.hpp"
#include "gengap/core/io.hpp"

namespace gengap::repro {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

// The exact solver's ensemble behind the log-time row: Sinai's walk to ln t = 40, where Monte
// Carlo cannot go.
struct ExactSpec {
  double sigma = 8;                 // s/T
  std::uint32_t environments = 0;
  int octaves = 58;
  int blocks = 16;                  // the runs of the decision: blocks of environments
  std::uint64_t seed = 3;
  double x_min = 1;                 // the window starts where T ln t / s reaches this
  std::vector<std::string> shards;  // gengap-sim exact --shard files of this ensemble, made elsewhere
  sim::ExactEnsembleConfig config() const {
    sim::ExactEnsembleConfig e;
    e.seed = seed;
    e.environments = environments;
    e.temperature = 1.0;
    e.octaves = octaves;
    e.per_octave = 4;
    return e;
  }
};

struct SinaiConfig {
  std::string potential;
  WalkSpec walk;
  double valley_gamma = 0;
  std::uint32_t valley_samples = 0;
  double kesten_target = 0, kesten_tolerance = 0, valley_level = 0;
  sim::LogTimeRule log_time;
  ExactSpec exact;

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
    k.required("relative_tolerance", s.kesten_tolerance);
    k.ignore_notes();
    k.finish();
    core::ObjectReader v = cl.child("valley_ks");
    v.required("level", s.valley_level);
    v.ignore_notes();
    v.finish();
    s.log_time = read_log_time_rule(cl);
    cl.finish();
    {
      core::ObjectReader ex = r.child("exact");
      ex.required("sigma", s.exact.sigma);
      ex.required("environments", s.exact.environments);
      ex.required("octaves", s.exact.octaves);
      ex.required("blocks", s.exact.blocks);
      ex.required("seed", s.exact.seed);
      ex.required("x_min", s.exact.x_min);
      ex.optional("shards", s.exact.shards);
      ex.ignore_notes();
      ex.finish();
    }
    r.finish();
    sim::require(s.potential == "sinai-gaussian" || s.potential == "sinai-binary", "potential", s.potential,
                 "a sinai experiment needs a sinai potential " + in_file(file));
    sim::require(s.kesten_target == sim::kKestenSecondMoment, "claims.kesten_second_moment.target", s.kesten_target,
                 "must be Kesten's 61/45 = 1.3555555555555556 " + in_file(file));
    sim::require(s.kesten_tolerance > 0 && s.kesten_tolerance < 1, "claims.kesten_second_moment.relative_tolerance", s.kesten_tolerance,
                 "must lie in (0, 1) " + in_file(file));
    sim::require(s.valley_level == 0.01, "claims.valley_ks.level", s.valley_level, "only the 1% level is tabulated " + in_file(file));
    sim::require(s.exact.blocks >= 3 && static_cast<std::uint32_t>(s.exact.blocks) <= s.exact.environments, "exact.blocks", s.exact.blocks,
                 "must lie in [3, exact.environments] " + in_file(file));
    sim::require(s.exact.sigma > 0 && std::isfinite(s.exact.sigma), "exact.sigma", s.exact.sigma, "must be finite and > 0 " + in_file(file));
    sim::require(s.exact.x_min > 0 && std::isfinite(s.exact.x_min), "exact.x_min", s.exact.x_min, "must be finite and > 0 " + in_file(file));
    sim::check_exact_ensemble(*sim::make_potential(s.potential, 1.0, s.exact.sigma), s.exact.config());
    if (!s.exact.shards.empty())  // they are this ensemble, complete and undamaged
      (void)exact_from_shards(s.exact.shards, *sim::make_potential(s.potential, 1.0, s.exact.sigma), s.walk.dynamics, s.exact.config());
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
  // The log-time decision on d = sqrt(<x^2>) of the exact solver to ln t = 40, the environments in
  // blocks (the runs of the decision), the window from T ln t / s >= x_min.
  const auto exact_pot = sim::make_potential(c.potential, 1.0, c.exact.sigma);
  sim::ExactEnsembleConfig ec = c.exact.config();
  sim::ExactEnsembleResult ex;
  if (!c.exact.shards.empty()) {
    ex = exact_from_shards(c.exact.shards, *exact_pot, c.walk.dynamics, ec);
  } else {
    gengap::cli::Progress progress("exact Sinai walk, s/T = " + fmt(c.exact.sigma, 3));
    ec.progress = [&progress](double done) { progress(done); };
    const auto dyn = sim::make_dynamics(c.walk.dynamics);
    ex = sim::run_exact_ensemble(*exact_pot, *dyn, ec);
    progress.done();
  }
  std::vector<double> tw;
  std::vector<Eigen::Index> cw;
  for (std::size_t i = 0; i < ex.times.size(); ++i)
    if (ex.ln_t[i] / c.exact.sigma >= c.exact.x_min) {
      tw.push_back(ex.times[i]);
      cw.push_back(static_cast<Eigen::Index>(i));
    }
  const Eigen::Index per_block = ex.env_msd.rows() / c.exact.blocks;
  Eigen::MatrixXd blk(c.exact.blocks, static_cast<Eigen::Index>(cw.size()));
  for (int k = 0; k < c.exact.blocks; ++k)
    for (std::size_t q = 0; q < cw.size(); ++q)
      blk(k, static_cast<Eigen::Index>(q)) = ex.env_msd.block(k * per_block, cw[q], per_block, 1).mean();
  sim::LogTimeDecision lt;
  if (tw.size() >= 2) lt = sim::decide_log_time(tw, blk, tw.front(), tw.back(), c.log_time, sim::RowsAre::kSquaredDistances);
  out["log_time"] = lt;
  out["exact"] = {{"sigma", c.exact.sigma},        {"environments", c.exact.environments}, {"octaves", c.exact.octaves},
                  {"blocks", c.exact.blocks},      {"half_width", ex.half_width},          {"seconds", ex.seconds},
                  {"largest_edge_mass", *std::max_element(ex.edge_mass.begin(), ex.edge_mass.end())}};
  {
    std::ostringstream es;
    es << std::setprecision(10) << "t,ln_t,msd,msd_se,edge_mass\n";
    for (std::size_t i = 0; i < ex.times.size(); ++i)
      es << ex.times[i] << ',' << ex.ln_t[i] << ',' << ex.msd[i] << ',' << ex.msd_se[i] << ',' << ex.edge_mass[i] << '\n';
    core::write_file_atomic((dir / "exact_series.csv").string(), es.str());
  }
  Verdict kv = exponent_verdict(name, "sigma^4 A^4 -> 61/45 (Kesten), Monte Carlo to t = " + fmt(static_cast<double>(c.walk.t_max), 3), est,
                                {lo, hi}, sim::kKestenSecondMoment, c.kesten_tolerance);
  kv.measured = fmt(est) + " [" + fmt(lo) + ", " + fmt(hi) + "] (95% bootstrap over " + std::to_string(w.r.env_msd.rows()) + " environments)";
  kv.rule = "the 95% interval inside 61/45 x (1 -+ " + fmt(c.kesten_tolerance, 3) + ")";
  Verdict vv{name, "valley bottoms follow Kesten's law (Golosov; the potential alone: a self-check of the valley search)", "KS < " + fmt(ks_crit, 3),
             fmt(ks, 3), "Kolmogorov-Smirnov at the 1% level, N = " + std::to_string(n_val),
             ks < ks_crit ? sim::Outcome::kSupported : sim::Outcome::kFalsified,
             ks < ks_crit ? "the KS distance is below the 1% critical value" : "the KS distance exceeds the 1% critical value"};
  out["verdicts"] = {kv, vv, log_time_verdict(name, {lt},
                                                        {"sqrt(<x^2>), exact solver, s/T = " + fmt(c.exact.sigma, 3) + ", " +
                                                         std::to_string(c.exact.environments) + " environments in " + std::to_string(c.exact.blocks) +
                                                         " blocks"},
                                                        c.log_time)};
  write_series_csv(dir / "series.csv", w.r, s2 * s2);
  return out;
}

}  // namespace

ExperimentKind sinai_kind() {
  return {"sinai", [](const Context& x) { (void)SinaiConfig::parse(x.config, x.file); }, run};
}

}  // namespace gengap::repro
