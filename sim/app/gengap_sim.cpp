// gengap-sim: random walks on random potentials from the command line (walk, valley, fit, sgd, exact, lattice, collapse).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "gengap/sim.hpp"

namespace {

using gengap::sim::InvalidArgument;
using gengap::sim::require;
using nlohmann::json;
namespace sim = gengap::sim;
namespace cli = gengap::cli;

// ----------------------------------------------------------------------------------------------
// Shared parameters of potentials.
struct PotentialParams {
  std::string potential = "sinai-gaussian";
  double alpha = 1.0;
  double sigma = 1.0;
};

std::unique_ptr<sim::Potential> make_potential(const PotentialParams& p) {
  return sim::make_potential(p.potential, p.alpha, p.sigma);
}

void add_potential_options(CLI::App* app, PotentialParams& p, cli::ConfigFields& f) {
  app->add_option("--potential", p.potential, "sinai-gaussian | sinai-binary | fbm | flat")->capture_default_str();
  app->add_option("--alpha", p.alpha, "structure-function exponent in (0,2) (fbm; Sinai is 1)")->capture_default_str();
  app->add_option("--sigma", p.sigma, "standard deviation of one increment V(x+1)-V(x)")->capture_default_str();
  f.add("potential", p.potential);
  f.add("alpha", p.alpha);
  f.add("sigma", p.sigma);
}

// ----------------------------------------------------------------------------------------------
// walk
struct WalkParams {
  PotentialParams pot;
  std::string dynamics = "metropolis";
  double temperature = 1.0;
  std::int64_t environments = 1000;
  std::int64_t walkers = 1;
  std::int64_t t_max = 100000;
  int per_decade = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  std::int64_t half_width = 0;
  std::int64_t max_half_width = std::int64_t{1} << 26;
  std::vector<double> quantiles{0.05, 0.25, 0.5, 0.75, 0.95};
  bool positions = false;
  double fit_tmin = 10;
  int bootstrap = 200;
  std::string json_out, csv_out;
  bool quiet = false;
};

void register_walk(CLI::App* app, WalkParams& w, cli::ConfigFields& f) {
  add_potential_options(app, w.pot, f);
  app->add_option("--dynamics", w.dynamics, "metropolis | heat-bath")->capture_default_str();
  app->add_option("-T,--temperature", w.temperature, "temperature T > 0")->capture_default_str();
  app->add_option("-e,--environments", w.environments, "independent potentials")->capture_default_str();
  app->add_option("-w,--walkers", w.walkers, "walkers per potential")->capture_default_str();
  app->add_option("-t,--t-max", w.t_max, "last recording time (steps), <= 2^32")->capture_default_str();
  app->add_option("--per-decade", w.per_decade, "recording times per decade (log-spaced)")->capture_default_str();
  app->add_option("-s,--seed", w.seed, "master seed")->capture_default_str();
  app->add_option("-j,--threads", w.threads, "threads (0 = all); results do not depend on it")->capture_default_str();
  app->add_option("--half-width", w.half_width, "initial window half-width (0 = automatic)")->capture_default_str();
  app->add_option("--max-half-width", w.max_half_width, "largest window half-width")->capture_default_str();
  app->add_option("--quantiles", w.quantiles, "quantile levels of x")->capture_default_str();
  app->add_flag("--positions", w.positions, "write every walker's final position");
  app->add_option("--fit-tmin", w.fit_tmin, "fit only times >= this")->capture_default_str();
  app->add_option("--bootstrap", w.bootstrap, "bootstrap resamples over environments (0 = none)")->capture_default_str();
  app->add_option("--json", w.json_out, "write results as JSON here (default: stdout)");
  app->add_option("--csv", w.csv_out, "write the time series as CSV here");
  app->add_flag("-q,--quiet", w.quiet, "no progress on stderr");
  f.add("dynamics", w.dynamics);
  f.add("temperature", w.temperature);
  f.add("environments", w.environments);
  f.add("walkers", w.walkers);
  f.add("t_max", w.t_max);
  f.add("per_decade", w.per_decade);
  f.add("seed", w.seed);
  f.add("threads", w.threads);
  f.add("half_width", w.half_width);
  f.add("max_half_width", w.max_half_width);
  f.add("quantiles", w.quantiles);
  f.add("positions", w.positions);
  f.add("fit_tmin", w.fit_tmin);
  f.add("bootstrap", w.bootstrap);
  f.add("json", w.json_out);
  f.add("csv", w.csv_out);
  f.add("quiet", w.quiet);
}

json fit_section(const sim::EnsembleResult& r, double tmin, int resamples, std::uint64_t seed, double fixed_k, bool sinai) {
  std::vector<double> t, y;
  std::vector<Eigen::Index> cols;
  for (std::size_t i = 0; i < r.times.size(); ++i) {
    if (static_cast<double>(r.times[i]) >= tmin && r.times[i] > 1 && r.msd[i] > 0) {
      t.push_back(static_cast<double>(r.times[i]));
      y.push_back(r.msd[i]);
      cols.push_back(static_cast<Eigen::Index>(i));
    }
  }
  if (t.size() < 4) return json{{"skipped", "fewer than 4 times >= fit_tmin with <x^2> > 0"}};
  json out;
  out["tmin"] = tmin;
  out["fixed_k"] = fixed_k;
  std::vector<sim::FitResult> fits;
  if (resamples > 0 && r.env_msd.rows() >= 2) {
    Eigen::MatrixXd s(r.env_msd.rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t c = 0; c < cols.size(); ++c) s.col(static_cast<Eigen::Index>(c)) = r.env_msd.col(cols[c]);
    const auto b = sim::bootstrap_fits(t, s, resamples, 0.95, seed, fixed_k);
    out["models"] = b;
    out["bootstrap_resamples"] = resamples;
    fits = b.fits;
    if (sinai) {
      for (std::size_t m = 0; m < b.fits.size(); ++m) {
        if (b.fits[m].model != "log-fixed") continue;
        const double s2 = r.sigma2, a = b.fits[m].param("A");
        const auto& ci = b.intervals[m][0];
        out["kesten"] = {{"target", sim::kKestenSecondMoment},
                         {"estimate", s2 * s2 * std::pow(a, 4)},
                         {"ci", {s2 * s2 * std::pow(ci.lo, 4), s2 * s2 * std::pow(ci.hi, 4)}},
                         {"what", "sigma^4 A^4 from <x^2>^(1/4) = A (ln t - c); Kesten: E b^2 = 61/45"}};
      }
    }
  } else {
    fits = sim::compare_models(t, y, fixed_k);
    out["models"] = fits;
    if (sinai) {
      for (const auto& f : fits)
        if (f.model == "log-fixed")
          out["kesten"] = {{"target", sim::kKestenSecondMoment}, {"estimate", r.sigma2 * r.sigma2 * std::pow(f.param("A"), 4)}};
    }
  }
  out["preferred"] = fits.front().model;
  return out;
}

int run_walk(const WalkParams& w) {
  const auto pot = make_potential(w.pot);
  const auto dyn = sim::make_dynamics(w.dynamics);
  require(w.environments >= 1 && w.environments <= 0xFFFFFFFFll, "environments", w.environments, "must be in [1, 2^32)");
  require(w.walkers >= 1 && w.walkers <= 0xFFFFFFFFll, "walkers", w.walkers, "must be in [1, 2^32)");
  require(w.t_max >= 1, "t_max", w.t_max, "must be >= 1");
  require(w.threads >= 0, "threads", w.threads, "must be >= 0");
  require(w.bootstrap == 0 || w.bootstrap >= 10, "bootstrap", w.bootstrap, "must be 0 or >= 10");
  require(std::isfinite(w.fit_tmin), "fit_tmin", w.fit_tmin, "must be finite");
  sim::EnsembleConfig cfg;
  cfg.seed = w.seed;
  cfg.environments = static_cast<std::uint32_t>(w.environments);
  cfg.walkers_per_env = static_cast<std::uint32_t>(w.walkers);
  cfg.temperature = w.temperature;
  cfg.times = sim::log_times(static_cast<std::uint64_t>(w.t_max), w.per_decade);
  cfg.half_width = w.half_width;
  cfg.max_half_width = w.max_half_width;
  cfg.threads = static_cast<unsigned>(w.threads);
  cfg.quantile_levels = w.quantiles;
  cfg.keep_positions = w.positions;
  cli::Progress progress("walk");
  if (!w.quiet) cfg.progress = [&progress](double f) { progress(f); };
  const sim::EnsembleResult r = sim::run_ensemble(*pot, *dyn, cfg);
  progress.done();

  json j;
  json pj;
  pot->to_json(pj);
  j["parameters"] = {{"potential", pj},
                     {"dynamics", dyn->name()},
                     {"temperature", w.temperature},
                     {"environments", w.environments},
                     {"walkers", w.walkers},
                     {"t_max", w.t_max},
                     {"per_decade", w.per_decade},
                     {"seed", w.seed},
                     {"half_width", w.half_width},
                     {"max_half_width", w.max_half_width}};
  j["sigma2"] = r.sigma2;
  j["alpha"] = r.alpha;
  const bool rough = pot->increment_variance() > 0;
  if (rough) j["predicted_msd_exponent"] = sim::predicted_msd_exponent(r.alpha);
  j["times"] = r.times;
  j["mean_x"] = r.mean_x;
  j["msd"] = r.msd;
  j["mean_abs"] = r.mean_abs;
  json q = json::array();
  for (Eigen::Index i = 0; i < r.quantiles.rows(); ++i) {
    std::vector<double> row(r.quantiles.cols());
    for (Eigen::Index c = 0; c < r.quantiles.cols(); ++c) row[static_cast<std::size_t>(c)] = r.quantiles(i, c);
    q.push_back(row);
  }
  j["quantiles"] = {{"levels", r.quantile_levels}, {"values", q}};
  if (w.positions) j["positions"] = r.final_positions;
  j["stats"] = {{"walker_steps", r.walker_steps},
                {"seconds", r.seconds},
                {"steps_per_second", r.seconds > 0 ? static_cast<double>(r.walker_steps) / r.seconds : 0.0},
                {"largest_half_width", r.largest_half_width}};
  const bool sinai = pot->name().rfind("sinai", 0) == 0;
  j["fit"] = fit_section(r, w.fit_tmin, w.bootstrap, w.seed, rough ? sim::predicted_msd_exponent(r.alpha) : 4.0, sinai);

  if (!w.csv_out.empty()) {
    std::ostringstream os;
    os << std::setprecision(12) << "t,mean_x,msd,mean_abs";
    for (double l : r.quantile_levels) os << ",q" << l;
    os << '\n';
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      os << r.times[i] << ',' << r.mean_x[i] << ',' << r.msd[i] << ',' << r.mean_abs[i];
      for (Eigen::Index c = 0; c < r.quantiles.cols(); ++c) os << ',' << r.quantiles(static_cast<Eigen::Index>(i), c);
      os << '\n';
    }
    cli::write_file_atomic(w.csv_out, os.str());
  }
  if (!w.json_out.empty()) {
    cli::write_file_atomic(w.json_out, j.dump(2) + "\n");
  } else {
    std::cout << j.dump(2) << '\n';
  }
  std::cerr << "walk: " << r.walker_steps << " walker-steps in " << std::setprecision(3) << r.seconds << " s ("
            << (r.seconds > 0 ? static_cast<double>(r.walker_steps) / r.seconds : 0.0) << " steps/s); <x^2>(t_max) = "
            << r.msd.back();
  if (j["fit"].contains("preferred")) std::cerr << "; preferred model: " << j["fit"]["preferred"].get<std::string>();
  if (j["fit"].contains("kesten"))
    std::cerr << "; sigma^4 A^4 = " << j["fit"]["kesten"]["estimate"].get<double>() << " (Kesten 61/45 = 1.3556)";
  std::cerr << '\n';
  return 0;
}

// ----------------------------------------------------------------------------------------------
// valley
struct ValleyParams {
  PotentialParams pot;
  double gamma = 10;
  std::int64_t samples = 1000;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string json_out;
};

void register_valley(CLI::App* app, ValleyParams& v, cli::ConfigFields& f) {
  add_potential_options(app, v.pot, f);
  app->add_option("-g,--gamma", v.gamma, "valley depth Gamma = T ln t (energy units)")->capture_default_str();
  app->add_option("-n,--samples", v.samples, "number of independent potentials")->capture_default_str();
  app->add_option("-s,--seed", v.seed, "master seed (environment i is walk environment i)")->capture_default_str();
  app->add_option("-j,--threads", v.threads, "threads (0 = all)")->capture_default_str();
  app->add_option("--json", v.json_out, "write results as JSON here (default: stdout)");
  f.add("gamma", v.gamma);
  f.add("samples", v.samples);
  f.add("seed", v.seed);
  f.add("threads", v.threads);
  f.add("json", v.json_out);
}

int run_valley(const ValleyParams& v) {
  const auto pot = make_potential(v.pot);
  require(v.samples >= 1 && v.samples <= 0xFFFFFFFFll, "samples", v.samples, "must be in [1, 2^32)");
  require(v.gamma > 0 && std::isfinite(v.gamma), "gamma", v.gamma, "must be finite and > 0");
  require(v.threads >= 0, "threads", v.threads, "must be >= 0");
  const auto b = sim::sample_valley_bottoms(*pot, v.gamma, static_cast<std::uint32_t>(v.samples), v.seed,
                                            static_cast<unsigned>(v.threads));
  json pj;
  pot->to_json(pj);
  json j;
  j["parameters"] = {{"potential", pj}, {"gamma", v.gamma}, {"samples", v.samples}, {"seed", v.seed}};
  j["bottoms"] = b;
  const double s2 = pot->increment_variance();
  const double scale = std::pow(s2, 1 / pot->alpha()) / std::pow(v.gamma, 2 / pot->alpha());
  std::vector<double> scaled(b.size());
  double m1 = 0, m2 = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    scaled[i] = scale * static_cast<double>(b[i]);
    m1 += std::abs(scaled[i]);
    m2 += scaled[i] * scaled[i];
  }
  m1 /= static_cast<double>(b.size());
  m2 /= static_cast<double>(b.size());
  json st = {{"what", "b = sigma^(2/alpha) b_Gamma / Gamma^(2/alpha)"}, {"mean_abs", m1}, {"second_moment", m2}};
  if (pot->alpha() == 1.0) {
    const double d = sim::ks_distance(scaled, sim::kesten_cdf);
    st["kesten_mean_abs"] = sim::kKestenMeanAbs;
    st["kesten_second_moment"] = sim::kKestenSecondMoment;
    st["ks_distance"] = d;
    st["ks_critical_1pct"] = 1.628 / std::sqrt(static_cast<double>(b.size()));
  }
  j["scaled"] = st;
  if (!v.json_out.empty()) {
    cli::write_file_atomic(v.json_out, j.dump(2) + "\n");
  } else {
    std::cout << j.dump(2) << '\n';
  }
  std::cerr << "valley: " << b.size() << " bottoms; E|b| = " << m1 << ", E b^2 = " << m2;
  if (st.contains("ks_distance"))
    std::cerr << " (Kesten: 5/6, 61/45); KS distance " << st["ks_distance"].get<double>();
  std::cerr << '\n';
  return 0;
}

// ----------------------------------------------------------------------------------------------
// fit
struct FitParams {
  std::string csv;
  std::string t_column;
  std::string y_column;
  bool samples = false;
  double tmin = 0;
  double tmax = 0;
  double k = 4;
  int bootstrap = 200;
  std::uint64_t seed = 1;
  std::string json_out;
};

void register_fit(CLI::App* app, FitParams& p, cli::ConfigFields& f) {
  app->add_option("csv", p.csv, "CSV file with a time column and one or more value columns");
  app->add_option("--t-column", p.t_column, "name of the time column (default: the first)");
  app->add_option("--y-column", p.y_column, "name of the value column (default: the second)");
  app->add_flag("--samples", p.samples, "every column but t is one sample (seed/environment): fit the mean, bootstrap over columns");
  app->add_option("--tmin", p.tmin, "fit only t >= tmin")->capture_default_str();
  app->add_option("--tmax", p.tmax, "fit only t <= tmax (0 = no limit)")->capture_default_str();
  app->add_option("-k,--fixed-k", p.k, "exponent of the log-fixed model y = (A (ln t - c))^k")->capture_default_str();
  app->add_option("--bootstrap", p.bootstrap, "bootstrap resamples with --samples")->capture_default_str();
  app->add_option("-s,--seed", p.seed, "bootstrap seed")->capture_default_str();
  app->add_option("--json", p.json_out, "write the comparison as JSON here");
  f.add("csv", p.csv);
  f.add("t_column", p.t_column);
  f.add("y_column", p.y_column);
  f.add("samples", p.samples);
  f.add("tmin", p.tmin);
  f.add("tmax", p.tmax);
  f.add("fixed_k", p.k);
  f.add("bootstrap", p.bootstrap);
  f.add("seed", p.seed);
  f.add("json", p.json_out);
}

std::size_t column_index(const std::vector<std::string>& names, const std::string& want, std::size_t fallback, const char* field) {
  if (want.empty()) {
    require(fallback < names.size(), field, names.size(), "the CSV has too few columns");
    return fallback;
  }
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == want) return i;
  throw InvalidArgument(field, want, "no such column in the CSV header");
}

int run_fit(const FitParams& p) {
  require(!p.csv.empty(), "csv", "(none)", "give the CSV file to fit");
  require(p.k > 0, "fixed_k", p.k, "must be > 0");
  const auto [names, cols] = cli::read_csv(p.csv);
  const std::size_t ti = column_index(names, p.t_column, 0, "t_column");
  std::vector<std::size_t> yi;
  if (p.samples) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (i != ti) yi.push_back(i);
    require(yi.size() >= 2, "samples", yi.size(), "--samples needs at least 2 value columns");
  } else {
    yi.push_back(column_index(names, p.y_column, ti == 0 ? 1 : 0, "y_column"));
  }
  std::vector<double> t;
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < cols[ti].size(); ++r) {
    const double tt = cols[ti][r];
    if (tt < p.tmin || (p.tmax > 0 && tt > p.tmax) || tt <= 1) continue;
    t.push_back(tt);
    rows.push_back(r);
  }
  Eigen::MatrixXd s(static_cast<Eigen::Index>(yi.size()), static_cast<Eigen::Index>(rows.size()));
  for (std::size_t c = 0; c < yi.size(); ++c)
    for (std::size_t r = 0; r < rows.size(); ++r) s(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(r)) = cols[yi[c]][rows[r]];
  json j;
  j["input"] = {{"csv", p.csv}, {"t_column", names[ti]}, {"points", t.size()}, {"tmin", p.tmin}, {"tmax", p.tmax}};
  std::vector<sim::FitResult> fits;
  if (p.samples) {
    const auto b = sim::bootstrap_fits(t, s, p.bootstrap, 0.95, p.seed, p.k);
    j["models"] = b;
    fits = b.fits;
  } else {
    const Eigen::VectorXd y = s.row(0).transpose();
    fits = sim::compare_models(t, std::vector<double>(y.data(), y.data() + y.size()), p.k);
    j["models"] = fits;
  }
  j["preferred"] = fits.front().model;
  std::cout << std::left << std::setw(11) << "model" << std::setw(12) << "AIC" << std::setw(12) << "BIC" << "parameters\n";
  for (const auto& f : fits) {
    std::cout << std::setw(11) << f.model << std::setw(12) << std::setprecision(6) << f.aic << std::setw(12) << f.bic;
    for (std::size_t i = 0; i < f.names.size(); ++i) std::cout << f.names[i] << '=' << f.params[i] << ' ';
    std::cout << '\n';
  }
  if (!p.json_out.empty()) cli::write_file_atomic(p.json_out, j.dump(2) + "\n");
  return 0;
}


// ----------------------------------------------------------------------------------------------
// sgd: the batch-size experiment in silico
struct SgdParams {
  sim::FourierFieldOptions field;
  std::uint32_t landscapes = 8;
  std::uint32_t walkers = 4;
  double lr = 0.05;
  std::int64_t small_batch = 128;
  std::vector<std::int64_t> batch_sizes{128, 512, 2048};
  std::string lr_scaling = "sqrt";
  double momentum = 0;
  double noise = 10;
  std::uint64_t t_max = 10000;
  int per_decade = 10;
  double samples = 50000;
  double fit_tmin = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string json_out, csv_out;
};

void register_sgd(CLI::App* app, SgdParams& p, cli::ConfigFields& f) {
  app->add_option("--dim", p.field.dim, "dimension D of the landscape")->capture_default_str();
  app->add_option("--modes", p.field.modes, "Fourier modes M")->capture_default_str();
  app->add_option("-a,--alpha", p.field.alpha, "structure-function exponent, in (0, 2)")->capture_default_str();
  app->add_option("--k-min", p.field.k_min, "smallest mode frequency (field saturates beyond sqrt(D)/k_min)")->capture_default_str();
  app->add_option("--k-max", p.field.k_max, "largest mode frequency")->capture_default_str();
  app->add_option("--strength", p.field.strength, "s: E[(V(w + r u) - V(w))^2] = s^2 (r/sqrt(D))^alpha")->capture_default_str();
  app->add_option("-e,--landscapes", p.landscapes, "independent landscapes")->capture_default_str();
  app->add_option("-w,--walkers", p.walkers, "walkers per landscape")->capture_default_str();
  app->add_option("--lr", p.lr, "learning rate at the small batch")->capture_default_str();
  app->add_option("--small-batch", p.small_batch, "B_s: the batch the lr is given for")->capture_default_str();
  app->add_option("-B,--batch-sizes", p.batch_sizes, "batch sizes to compare")->delimiter(',')->capture_default_str();
  app->add_option("--lr-scaling", p.lr_scaling, "sqrt (lr x sqrt(B/B_s)) or none")->capture_default_str();
  app->add_option("--momentum", p.momentum, "heavy-ball momentum in [0, 1)")->capture_default_str();
  app->add_option("--noise", p.noise, "std per coordinate of one sample's gradient noise")->capture_default_str();
  app->add_option("-t,--t-max", p.t_max, "last iteration")->capture_default_str();
  app->add_option("--per-decade", p.per_decade, "recording times per decade")->capture_default_str();
  app->add_option("--samples", p.samples, "notional training-set size N: epochs = t B / N")->capture_default_str();
  app->add_option("--fit-tmin", p.fit_tmin, "fit d(t) from this iteration on")->capture_default_str();
  app->add_option("-s,--seed", p.seed, "master seed (landscapes and noise)")->capture_default_str();
  app->add_option("-j,--threads", p.threads, "threads (0 = all)")->capture_default_str();
  app->add_option("--json", p.json_out, "write results as JSON here (default: stdout)");
  app->add_option("--csv", p.csv_out, "write the distance curves as CSV here (batch, t, epoch, distance)");
  f.add("dim", p.field.dim);
  f.add("modes", p.field.modes);
  f.add("alpha", p.field.alpha);
  f.add("k_min", p.field.k_min);
  f.add("k_max", p.field.k_max);
  f.add("strength", p.field.strength);
  f.add("landscapes", p.landscapes);
  f.add("walkers", p.walkers);
  f.add("lr", p.lr);
  f.add("small_batch", p.small_batch);
  f.add("batch_sizes", p.batch_sizes);
  f.add("lr_scaling", p.lr_scaling);
  f.add("momentum", p.momentum);
  f.add("noise", p.noise);
  f.add("t_max", p.t_max);
  f.add("per_decade", p.per_decade);
  f.add("samples", p.samples);
  f.add("fit_tmin", p.fit_tmin);
  f.add("seed", p.seed);
  f.add("threads", p.threads);
  f.add("json", p.json_out);
  f.add("csv", p.csv_out);
}

int run_sgd_cmd(const SgdParams& p) {
  require(p.lr_scaling == "sqrt" || p.lr_scaling == "none", "lr_scaling", p.lr_scaling, "expected sqrt or none");
  require(p.samples > 0, "samples", p.samples, "must be > 0");
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  require(p.t_max >= 10, "t_max", p.t_max, "must be >= 10");
  json j;
  j["parameters"] = {{"dim", p.field.dim}, {"modes", p.field.modes}, {"alpha", p.field.alpha}, {"k_min", p.field.k_min},
                     {"k_max", p.field.k_max}, {"strength", p.field.strength}, {"landscapes", p.landscapes},
                     {"walkers", p.walkers}, {"lr", p.lr}, {"small_batch", p.small_batch}, {"lr_scaling", p.lr_scaling},
                     {"momentum", p.momentum}, {"noise", p.noise}, {"t_max", p.t_max}, {"samples", p.samples},
                     {"seed", p.seed}};
  j["saturation_distance"] = std::sqrt(static_cast<double>(p.field.dim)) / p.field.k_min;
  j["batches"] = json::array();
  std::vector<sim::Curve> by_it, by_ep;
  std::ostringstream csv;
  csv << std::setprecision(10) << "batch,t,epoch,distance\n";
  sim::SgdConfig base;
  base.landscapes = p.landscapes;
  base.walkers = p.walkers;
  base.momentum = p.momentum;
  base.noise = p.noise;
  base.times = sim::log_times(p.t_max, p.per_decade);
  base.seed = p.seed;
  base.threads = static_cast<unsigned>(p.threads);
  const auto runs = sim::run_batch_sweep(p.field, base, p.lr, p.small_batch, p.batch_sizes, p.lr_scaling == "sqrt",
                                         cli::batch_progress("sgd"));
  for (const auto& run : runs) {
    const auto b = run.batch;
    const sim::SgdResult& r = run.result;
    sim::Curve ci, ce;
    std::vector<double> t;
    std::vector<Eigen::Index> cols;
    for (std::size_t k = 0; k < r.times.size(); ++k) {
      const double tt = static_cast<double>(r.times[k]);
      ci.x.push_back(tt);
      ce.x.push_back(tt * static_cast<double>(b) / p.samples);
      ci.y.push_back(r.mean_distance[k]);
      csv << b << ',' << tt << ',' << ce.x.back() << ',' << r.mean_distance[k] << '\n';
      if (tt >= p.fit_tmin && tt > 1) {
        t.push_back(tt);
        cols.push_back(static_cast<Eigen::Index>(k));
      }
    }
    ce.y = ci.y;
    by_it.push_back(ci);
    by_ep.push_back(ce);
    json bj = {{"batch", b}, {"lr", run.lr}, {"result", r}};
    if (t.size() >= 5) {
      Eigen::MatrixXd rows(r.env_distance.rows(), static_cast<Eigen::Index>(cols.size()));
      for (std::size_t k = 0; k < cols.size(); ++k) rows.col(static_cast<Eigen::Index>(k)) = r.env_distance.col(cols[k]);
      bj["fits"] = sim::bootstrap_fits(t, rows, 200, 0.95, p.seed, sim::ModelComparer(sim::compare_distance_models));
    }
    j["batches"].push_back(bj);
  }
  if (by_it.size() >= 2) {
    const auto oi = sim::curve_overlap(by_it), oe = sim::curve_overlap(by_ep);
    j["overlap"] = {{"iterations", oi.spread}, {"epochs", oe.spread}};
    std::cerr << "sgd: overlap spread " << oi.spread << " against iterations, " << oe.spread << " against epochs\n";
  }
  if (!p.csv_out.empty()) cli::write_file_atomic(p.csv_out, csv.str());
  if (!p.json_out.empty()) {
    cli::write_file_atomic(p.json_out, j.dump(2) + "\n");
  } else {
    std::cout << j.dump(2) << '\n';
  }
  return 0;
}

// ----------------------------------------------------------------------------------------------
// exact
struct ExactParams {
  PotentialParams pot;
  std::string dynamics = "metropolis";
  double temperature = 1.0;
  std::int64_t environments = 32;
  int octaves = 58;
  int per_octave = 4;
  std::int64_t half_width = 0;
  std::uint64_t seed = 1;
  int threads = 0;
  std::int64_t valley_samples = 20000;
  double fit_from = 20;
  std::string json_out, csv_out;
  bool quiet = false;
};

void register_exact(CLI::App* app, ExactParams& p, cli::ConfigFields& f) {
  // s / T = 6: the automatic window for ln t = 40 has about 1000 sites (5 s per environment and core);
  // s / T = 3 is closer to the continuum but needs about 3400 sites (several minutes per environment).
  p.pot.sigma = 6.0;
  add_potential_options(app, p.pot, f);
  app->add_option("--dynamics", p.dynamics, "metropolis | heat-bath")->capture_default_str();
  app->add_option("-T,--temperature", p.temperature, "temperature T > 0")->capture_default_str();
  app->add_option("-e,--environments", p.environments, "environments solved exactly (each: octaves dense n x n products)")->capture_default_str();
  app->add_option("--octaves", p.octaves, "largest time 2^octaves steps (58: ln t = 40.2; at most 62)")->capture_default_str();
  app->add_option("--per-octave", p.per_octave, "times per factor 2: 1, 2 or 4")->capture_default_str();
  app->add_option("--half-width", p.half_width, "window [-hw, hw] with reflecting ends (0 = 8 (ln t_max + 1.2 sigma)^2 / sigma^2)")->capture_default_str();
  app->add_option("-s,--seed", p.seed, "master seed (environment e is the same as in gengap-sim walk)")->capture_default_str();
  app->add_option("-j,--threads", p.threads, "environments solved in parallel (0 = all cores); results do not depend on it")->capture_default_str();
  app->add_option("--valley-samples", p.valley_samples, "further environments for the valley-bottom control variate (Sinai; 0 = none)")->capture_default_str();
  app->add_option("--fit-from", p.fit_from, "fit <x^2>^(1/4) = A (ln t - c) on ln t >= this")->capture_default_str();
  app->add_option("--json", p.json_out, "write results as JSON here (default: stdout)");
  app->add_option("--csv", p.csv_out, "write the time series as CSV here");
  app->add_flag("-q,--quiet", p.quiet, "no progress on stderr");
  f.add("dynamics", p.dynamics);
  f.add("temperature", p.temperature);
  f.add("environments", p.environments);
  f.add("octaves", p.octaves);
  f.add("per_octave", p.per_octave);
  f.add("half_width", p.half_width);
  f.add("seed", p.seed);
  f.add("threads", p.threads);
  f.add("valley_samples", p.valley_samples);
  f.add("fit_from", p.fit_from);
  f.add("json", p.json_out);
  f.add("csv", p.csv_out);
  f.add("quiet", p.quiet);
}

int run_exact_cmd(const ExactParams& p) {
  const auto pot = make_potential(p.pot);
  const auto dyn = sim::make_dynamics(p.dynamics);
  require(p.environments >= 2 && p.environments <= 0xFFFFFFFFll, "environments", p.environments, "must be in [2, 2^32)");
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  require(p.valley_samples == 0 || (p.valley_samples >= 2 && p.valley_samples <= 0xFFFFFFFFll), "valley_samples",
          p.valley_samples, "must be 0 or in [2, 2^32)");
  require(std::isfinite(p.fit_from), "fit_from", p.fit_from, "must be finite");
  sim::ExactEnsembleConfig cfg;
  cfg.seed = p.seed;
  cfg.environments = static_cast<std::uint32_t>(p.environments);
  cfg.temperature = p.temperature;
  cfg.half_width = p.half_width;
  cfg.octaves = p.octaves;
  cfg.per_octave = p.per_octave;
  cfg.threads = static_cast<unsigned>(p.threads);
  cli::Progress progress("exact");
  if (!p.quiet) cfg.progress = [&progress](double f) { progress(f); };
  const sim::ExactEnsembleResult r = sim::run_exact_ensemble(*pot, *dyn, cfg);
  progress.done();

  json pj;
  pot->to_json(pj);
  json j;
  j["parameters"] = {{"potential", pj},        {"dynamics", dyn->name()},   {"temperature", p.temperature},
                     {"environments", p.environments}, {"octaves", p.octaves}, {"per_octave", p.per_octave},
                     {"half_width", r.half_width},      {"seed", p.seed},       {"valley_samples", p.valley_samples},
                     {"fit_from", p.fit_from}};
  j["method"] = "exact discrete-time propagation: repeated squaring of the transition matrix in nonnegative arithmetic, "
                "reflecting window ends";
  j["sigma2"] = r.sigma2;
  j["times"] = r.times;
  j["ln_t"] = r.ln_t;
  j["msd"] = r.msd;
  j["msd_se"] = r.msd_se;
  j["edge_mass"] = r.edge_mass;
  j["stats"] = {{"seconds", r.seconds},
                {"seconds_per_environment", r.seconds / static_cast<double>(p.environments)},
                {"squaring_defect", r.squaring_defect},
                {"mass_defect", r.mass_defect}};
  const bool sinai = pot->alpha() == 1.0 && pot->increment_variance() > 0;
  sim::KestenConvergence kc;
  if (sinai) {
    kc = sim::kesten_convergence(r, *pot, p.seed, p.temperature, static_cast<std::uint32_t>(p.valley_samples), p.fit_from);
    json pts = json::array();
    for (const auto& q : kc.points) {
      pts.push_back({{"ln_t", q.ln_t}, {"msd", q.msd}, {"msd_se", q.msd_se}, {"msd_cv", q.msd_cv},
                     {"msd_cv_se", q.msd_cv_se}, {"ratio", q.ratio}, {"ratio_se", q.ratio_se}, {"valley", q.valley}});
    }
    j["kesten"] = {{"target", sim::kKestenSecondMoment},
                   {"what", "sigma^4 <x^2> / (ln t - c)^4 -> 61/45; c and sigma^4 A^4 from <x^2>^(1/4) = A (ln t - c)"},
                   {"c", kc.c},
                   {"amplitude4", kc.amplitude4},
                   {"amplitude4_se", kc.amplitude4_se},
                   {"valley_c", kc.valley_c},
                   {"valley_amplitude4", kc.valley_amplitude4},
                   {"fit_from", kc.fit_from},
                   {"valley_environments", kc.valley_environments},
                   {"points", pts}};
  }
  if (!p.csv_out.empty()) {
    std::ostringstream os;
    os << std::setprecision(12) << "t,ln_t,msd,msd_se,edge_mass";
    if (sinai) os << ",msd_cv,msd_cv_se,ratio,ratio_se,valley";
    os << '\n';
    std::size_t k = 0;
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      os << r.times[i] << ',' << r.ln_t[i] << ',' << r.msd[i] << ',' << r.msd_se[i] << ',' << r.edge_mass[i];
      if (sinai) {
        if (k < kc.points.size() && kc.points[k].ln_t == r.ln_t[i]) {
          const auto& q = kc.points[k++];
          os << ',' << q.msd_cv << ',' << q.msd_cv_se << ',' << q.ratio << ',' << q.ratio_se << ',' << q.valley;
        } else {
          os << ",,,,,";
        }
      }
      os << '\n';
    }
    cli::write_file_atomic(p.csv_out, os.str());
  }
  if (!p.json_out.empty()) {
    cli::write_file_atomic(p.json_out, j.dump(2) + "\n");
  } else {
    std::cout << j.dump(2) << '\n';
  }
  // The convergence curve, for the reader.
  std::cerr << std::fixed;
  if (sinai) {
    std::cerr << "exact: sigma^4 <x^2> / (ln t - c)^4 with c = " << std::setprecision(3) << kc.c
              << " (fit on ln t >= " << kc.fit_from << "); Kesten: 61/45 = 1.3556\n"
              << "   ln t     <x^2>        +-   with valleys       +-    ratio      +-   valley only\n";
    for (const auto& q : kc.points) {
      // Every fourth octave (t = 2^k, k divisible by 4) and the last time.
      const double k = q.ln_t / std::log(2.0);
      const bool shown = std::abs(k - std::round(k)) < 1e-9 && static_cast<long>(std::round(k)) % 4 == 0;
      if (!shown && &q != &kc.points.back()) continue;
      std::cerr << std::setw(7) << std::setprecision(2) << q.ln_t << std::setw(10) << std::setprecision(1) << q.msd
                << std::setw(10) << q.msd_se << std::setw(15) << q.msd_cv << std::setw(10) << q.msd_cv_se
                << std::setw(9) << std::setprecision(4) << q.ratio << std::setw(8) << q.ratio_se << std::setw(14)
                << q.valley << '\n';
    }
    std::cerr << "exact: sigma^4 A^4 = " << kc.amplitude4 << " +- " << kc.amplitude4_se << " (61/45 = 1.3556)";
    if (kc.valley_environments >= 2)
      std::cerr << "; valley bottoms alone: " << kc.valley_amplitude4 << " with c = " << std::setprecision(3) << kc.valley_c;
  } else {
    std::cerr << "exact: <x^2>(t_max) = " << std::setprecision(3) << r.msd.back() << " +- " << r.msd_se.back();
  }
  std::cerr << std::scientific << std::setprecision(1) << "; largest edge mass " << *std::max_element(r.edge_mass.begin(), r.edge_mass.end())
            << ", squaring defect " << r.squaring_defect << ", mass defect " << r.mass_defect << std::fixed
            << std::setprecision(2) << "; " << r.seconds / static_cast<double>(p.environments) << " s per environment\n";
  return 0;
}

// ----------------------------------------------------------------------------------------------
// lattice
struct LatticeParams {
  std::vector<int> dims{1, 2, 3};
  std::vector<std::int64_t> boxes{16384, 512, 128};
  double alpha = 1.0;
  double s = 3.0;
  std::vector<double> temperatures{1.0};
  int subharmonics = 3;
  std::int64_t environments = 20;
  std::int64_t walkers = 10;
  std::int64_t t_max = 100000;
  int per_decade = 8;
  double fit_tmin = 100;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string json_out, csv_out;
  bool quiet = false;
};

void register_lattice(CLI::App* app, LatticeParams& p, cli::ConfigFields& f) {
  app->add_option("--dims", p.dims, "lattice dimensions d to run (1, 2, 3)")->delimiter(',')->capture_default_str();
  app->add_option("--boxes", p.boxes, "periodic box side L per dimension in --dims (powers of two; walkers stay within L/4)")
      ->delimiter(',')->capture_default_str();
  app->add_option("-a,--alpha", p.alpha, "structure-function exponent, in (0, 2)")->capture_default_str();
  app->add_option("--sigma", p.s, "s: E[(V(x + e_1) - V(x))^2] = s^2")->capture_default_str();
  app->add_option("-T,--temperatures", p.temperatures, "temperatures (several: the collapse on T ln t / s)")->delimiter(',')->capture_default_str();
  app->add_option("--subharmonics", p.subharmonics, "subharmonic levels below the box's lowest wave number")->capture_default_str();
  app->add_option("-e,--environments", p.environments, "independent fields per run")->capture_default_str();
  app->add_option("-w,--walkers", p.walkers, "walkers per field")->capture_default_str();
  app->add_option("-t,--t-max", p.t_max, "last recording time (steps)")->capture_default_str();
  app->add_option("--per-decade", p.per_decade, "recording times per decade")->capture_default_str();
  app->add_option("--fit-tmin", p.fit_tmin, "fit <|x|^2> = B (ln t - c)^k on t >= this")->capture_default_str();
  app->add_option("-s,--seed", p.seed, "master seed")->capture_default_str();
  app->add_option("-j,--threads", p.threads, "threads (0 = all); results do not depend on it")->capture_default_str();
  app->add_option("--json", p.json_out, "write results as JSON here (default: stdout)");
  app->add_option("--csv", p.csv_out, "write the curves as CSV here (dim, temperature, t, x, msd)");
  app->add_flag("-q,--quiet", p.quiet, "no progress on stderr");
  f.add("dims", p.dims);
  f.add("boxes", p.boxes);
  f.add("alpha", p.alpha);
  f.add("sigma", p.s);
  f.add("temperatures", p.temperatures);
  f.add("subharmonics", p.subharmonics);
  f.add("environments", p.environments);
  f.add("walkers", p.walkers);
  f.add("t_max", p.t_max);
  f.add("per_decade", p.per_decade);
  f.add("fit_tmin", p.fit_tmin);
  f.add("seed", p.seed);
  f.add("threads", p.threads);
  f.add("json", p.json_out);
  f.add("csv", p.csv_out);
  f.add("quiet", p.quiet);
}

int run_lattice_cmd(const LatticeParams& p) {
  require(!p.dims.empty(), "dims", "(empty)", "must name at least one dimension");
  require(p.boxes.size() == p.dims.size(), "boxes", p.boxes.size(),
          "must give one box side per dimension in --dims (" + std::to_string(p.dims.size()) + ")");
  require(!p.temperatures.empty(), "temperatures", "(empty)", "must name at least one temperature");
  require(p.environments >= 1 && p.environments <= 0xFFFFFFFFll, "environments", p.environments, "must be in [1, 2^32)");
  require(p.walkers >= 1 && p.walkers <= 0xFFFFFFFFll, "walkers", p.walkers, "must be in [1, 2^32)");
  require(p.t_max >= 10, "t_max", p.t_max, "must be >= 10");
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  const std::vector<std::uint64_t> times = sim::log_times(static_cast<std::uint64_t>(p.t_max), p.per_decade);
  const double k_pred = sim::predicted_msd_exponent(p.alpha);
  json runs = json::array(), by_dim = json::array();
  std::ostringstream csv;
  csv << std::setprecision(12) << "dim,temperature,t,x,msd\n";
  for (std::size_t di = 0; di < p.dims.size(); ++di) {
    sim::LatticeFieldOptions fo;
    fo.dim = p.dims[di];
    fo.box = p.boxes[di];
    fo.alpha = p.alpha;
    fo.s = p.s;
    fo.subharmonics = p.subharmonics;
    const sim::LatticeField field(fo);
    std::vector<sim::Curve> curves;
    std::vector<double> ks;
    sim::LatticeWalkConfig cfg;
    cfg.seed = p.seed;
    cfg.environments = static_cast<std::uint32_t>(p.environments);
    cfg.walkers_per_env = static_cast<std::uint32_t>(p.walkers);
    cfg.times = times;
    cfg.threads = static_cast<unsigned>(p.threads);
    cli::Progress progress("lattice d = " + std::to_string(fo.dim));
    if (!p.quiet) cfg.progress = [&progress](double f) { progress(f); };
    // Every field is synthesized once and walked at all temperatures.
    const std::vector<sim::LatticeWalkResult> all = sim::run_lattice_walks(field, cfg, p.temperatures);
    progress.done();
    for (std::size_t k = 0; k < all.size(); ++k) {
      const double temp = p.temperatures[k];
      const sim::LatticeWalkResult& r = all[k];
      std::vector<double> t, y;
      sim::Curve curve;
      for (std::size_t i = 0; i < r.times.size(); ++i) {
        const double ti = static_cast<double>(r.times[i]);
        const double x = temp * std::log(ti) / p.s;  // the collapse variable T ln t / s
        csv << fo.dim << ',' << temp << ',' << ti << ',' << x << ',' << r.msd[i] << '\n';
        if (ti >= p.fit_tmin && ti > 1 && r.msd[i] > 0) {
          t.push_back(ti);
          y.push_back(r.msd[i]);
        }
        if (ti >= p.fit_tmin && ti > 1 && r.msd[i] > 0) {  // the collapse is asymptotic: late times only
          curve.x.push_back(x);
          curve.y.push_back(r.msd[i]);
        }
      }
      json fit;
      if (t.size() >= 4) {
        std::vector<Eigen::Index> cols;
        for (std::size_t i = 0; i < r.times.size(); ++i)
          if (static_cast<double>(r.times[i]) >= p.fit_tmin && r.times[i] > 1 && r.msd[i] > 0) cols.push_back(static_cast<Eigen::Index>(i));
        if (r.env_msd.rows() >= 2) {
          // Bootstrap over environments: intervals for every parameter, k of the log-free model among them.
          Eigen::MatrixXd smp(r.env_msd.rows(), static_cast<Eigen::Index>(cols.size()));
          for (std::size_t c = 0; c < cols.size(); ++c) smp.col(static_cast<Eigen::Index>(c)) = r.env_msd.col(cols[c]);
          const sim::BootstrapFits b = sim::bootstrap_fits(t, smp, 200, 0.95, p.seed, k_pred);
          fit["models"] = b;
          fit["preferred"] = b.fits.front().model;
          for (std::size_t m = 0; m < b.fits.size(); ++m) {
            if (b.fits[m].model != "log-free") continue;
            for (std::size_t q = 0; q < b.fits[m].names.size(); ++q)
              if (b.fits[m].names[q] == "k") fit["k_ci"] = {b.intervals[m][q].lo, b.intervals[m][q].hi};
            fit["k"] = b.fits[m].param("k");
            ks.push_back(b.fits[m].param("k"));
          }
        } else {
          const std::vector<sim::FitResult> models = sim::compare_models(t, y, k_pred);
          fit["models"] = models;
          fit["preferred"] = models.front().model;
          for (const auto& m : models) {
            if (m.model == "log-free") {
              fit["k"] = m.param("k");
              ks.push_back(m.param("k"));
            }
          }
        }
      } else {
        fit["skipped"] = "fewer than 4 times >= fit_tmin";
      }
      curves.push_back(curve);
      runs.push_back({{"dim", fo.dim},
                      {"box", fo.box},
                      {"temperature", temp},
                      {"times", r.times},
                      {"msd", r.msd},
                      {"max_reach", r.max_reach},
                      {"walker_steps", r.walker_steps},
                      {"seconds", r.seconds},
                      {"fit", fit}});
    }
    json dj = {{"dim", fo.dim},
               {"box", fo.box},
               {"structure_exponent", std::log(field.structure_function({fo.box / 4, 0, 0}) / field.structure_function({1, 0, 0})) /
                                          std::log(static_cast<double>(fo.box / 4))},
               {"k", ks},
               {"k_predicted", k_pred}};
    if (curves.size() >= 2) {
      const sim::Overlap o = sim::curve_overlap(curves);
      dj["collapse"] = {{"what", "spread of <|x|^2> against T ln t / s across temperatures, t >= fit_tmin (0 = one curve)"},
                        {"spread", o.spread}, {"x_lo", o.x_lo}, {"x_hi", o.x_hi}};
      // The same curves against ln t, for contrast: they do not coincide.
      std::vector<sim::Curve> raw = curves;
      for (std::size_t c = 0; c < raw.size(); ++c)
        for (double& x : raw[c].x) x *= p.s / p.temperatures[c];
      const sim::Overlap o2 = sim::curve_overlap(raw);
      dj["collapse"]["spread_against_ln_t"] = o2.spread;
    }
    by_dim.push_back(dj);
  }
  json j;
  j["parameters"] = {{"dims", p.dims},       {"boxes", p.boxes},           {"alpha", p.alpha},
                     {"sigma", p.s},         {"temperatures", p.temperatures}, {"subharmonics", p.subharmonics},
                     {"environments", p.environments}, {"walkers", p.walkers}, {"t_max", p.t_max},
                     {"per_decade", p.per_decade}, {"fit_tmin", p.fit_tmin}, {"seed", p.seed}};
  j["runs"] = runs;
  j["by_dim"] = by_dim;
  if (!p.csv_out.empty()) cli::write_file_atomic(p.csv_out, csv.str());
  if (!p.json_out.empty()) {
    cli::write_file_atomic(p.json_out, j.dump(2) + "\n");
  } else {
    std::cout << j.dump(2) << '\n';
  }
  std::cerr << std::setprecision(3) << "lattice: fitted exponent k of <|x|^2> = B (ln t - c)^k (4/alpha = " << k_pred << "):";
  for (const auto& d : by_dim) {
    std::cerr << " d = " << d["dim"].get<int>() << ": " << d["k"].dump();
    if (d.contains("collapse"))
      std::cerr << " (collapse spread " << d["collapse"]["spread"].get<double>() << " vs "
                << d["collapse"]["spread_against_ln_t"].get<double>() << " against ln t)";
    std::cerr << ';';
  }
  std::cerr << '\n';
  return 0;
}

// ----------------------------------------------------------------------------------------------
// collapse
struct CollapseParams {
  std::vector<std::string> files;
  double x_min = 0;
  std::string json_out;
};

void register_collapse(CLI::App* app, CollapseParams& p, cli::ConfigFields& f) {
  app->add_option("files", p.files, "JSON results of gengap-sim walk or exact (two or more; different s or T)")->required();
  app->add_option("--x-min", p.x_min, "compare only where T ln t / s >= this (the asymptotic part)")->capture_default_str();
  app->add_option("--json", p.json_out, "write the result as JSON here (default: stdout)");
  f.add("x_min", p.x_min);
  f.add("json", p.json_out);
}

int run_collapse_cmd(const CollapseParams& p) {
  require(p.files.size() >= 2, "files", p.files.size(), "must name at least two result files");
  require(std::isfinite(p.x_min), "x_min", p.x_min, "must be finite");
  std::vector<sim::Curve> scaled, raw;
  json runs = json::array();
  for (const std::string& file : p.files) {
    std::ifstream in(file);
    require(static_cast<bool>(in), "files", file, "cannot open the file");
    json j;
    try {
      j = json::parse(in);
    } catch (const json::parse_error&) {
      throw InvalidArgument("files", file, "malformed JSON");
    }
    const bool ok = j.contains("parameters") && j["parameters"].contains("temperature") && j["parameters"].contains("potential") &&
                    j["parameters"]["potential"].contains("sigma") && j.contains("times") && j.contains("msd");
    require(ok, "files", file, "expected the JSON of gengap-sim walk or exact (parameters.temperature, parameters.potential.sigma, times, msd)");
    const double temp = j["parameters"]["temperature"].get<double>(), s = j["parameters"]["potential"]["sigma"].get<double>();
    const auto t = j["times"].get<std::vector<double>>();
    const auto y = j["msd"].get<std::vector<double>>();
    sim::Curve a, b;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double x = temp * std::log(t[i]) / s;
      if (t[i] <= 1 || !(y[i] > 0) || x < p.x_min) continue;
      a.x.push_back(x);
      a.y.push_back(y[i]);
      b.x.push_back(std::log(t[i]));
      b.y.push_back(y[i]);
    }
    require(a.x.size() >= 2, "files", file, "has fewer than 2 times with T ln t / s >= x_min");
    scaled.push_back(a);
    raw.push_back(b);
    runs.push_back({{"file", file}, {"temperature", temp}, {"sigma", s}, {"points", a.x.size()}});
  }
  const sim::Overlap on = sim::curve_overlap(scaled), off = sim::curve_overlap(raw);
  const json j = {{"what", "spread (mean coefficient of variation across runs) of <x^2> against T ln t / s, and against ln t"},
                  {"runs", runs},
                  {"spread", on.spread},
                  {"x_lo", on.x_lo},
                  {"x_hi", on.x_hi},
                  {"spread_against_ln_t", off.spread}};
  if (!p.json_out.empty()) {
    cli::write_file_atomic(p.json_out, j.dump(2) + "\n");
  } else {
    std::cout << j.dump(2) << '\n';
  }
  std::cerr << "collapse: spread " << std::setprecision(3) << on.spread << " against T ln t / s on [" << on.x_lo << ", " << on.x_hi
            << "], " << off.spread << " against ln t\n";
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gengap-sim: random walks on random potentials (Sinai, fractional Brownian), exact theory and fits"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gengap-sim 0.1.0");
  WalkParams walk;
  ValleyParams valley;
  FitParams fit;
  SgdParams sgd;
  ExactParams exact;
  LatticeParams lattice;
  CollapseParams collapse;
  cli::ConfigFields walk_f, valley_f, fit_f, sgd_f, exact_f, lattice_f, collapse_f;
  std::string config;
  auto* w = app.add_subcommand("walk", "simulate an ensemble of walkers; JSON + CSV out");
  auto* v = app.add_subcommand("valley", "sample Golosov's valley bottom b_Gamma from the potential alone");
  auto* f = app.add_subcommand("fit", "fit a CSV of t, d(t) with every growth model and compare them");
  auto* g = app.add_subcommand("sgd", "noisy gradient descent on a high-dimensional random landscape: the batch-size experiment in silico");
  auto* x = app.add_subcommand("exact", "exact thermal averages of the 1D walk at any time (to ln t = 40 and beyond), without stepping");
  auto* l = app.add_subcommand("lattice", "walkers on d = 1, 2, 3 lattice Gaussian fields: growth exponent vs d, collapse on T ln t / s");
  auto* c = app.add_subcommand("collapse", "do runs at different T and s collapse on T ln t / s? (JSON of walk or exact)");
  for (auto* sc : {w, v, f, g, x, l, c}) sc->add_option("--config", config, "JSON file of fields (flags override it)");
  register_walk(w, walk, walk_f);
  register_valley(v, valley, valley_f);
  register_fit(f, fit, fit_f);
  register_sgd(g, sgd, sgd_f);
  register_exact(x, exact, exact_f);
  register_lattice(l, lattice, lattice_f);
  register_collapse(c, collapse, collapse_f);
  try {
    // Apply the config first, so that flags given on the command line override it.
    const std::string cfg_file = cli::find_config(argc, argv);
    if (!cfg_file.empty() && argc > 1) {
      const std::string sub = argv[1];
      if (sub == "walk") walk_f.apply(cfg_file);
      if (sub == "valley") valley_f.apply(cfg_file);
      if (sub == "fit") fit_f.apply(cfg_file);
      if (sub == "sgd") sgd_f.apply(cfg_file);
      if (sub == "exact") exact_f.apply(cfg_file);
      if (sub == "lattice") lattice_f.apply(cfg_file);
      if (sub == "collapse") collapse_f.apply(cfg_file);
    }
    app.parse(argc, argv);
    if (w->parsed()) return run_walk(walk);
    if (v->parsed()) return run_valley(valley);
    if (f->parsed()) return run_fit(fit);
    if (g->parsed()) return run_sgd_cmd(sgd);
    if (x->parsed()) return run_exact_cmd(exact);
    if (l->parsed()) return run_lattice_cmd(lattice);
    if (c->parsed()) return run_collapse_cmd(collapse);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "gengap-sim: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const gengap::sim::InvalidArgument& e) {
    std::cerr << "gengap-sim: error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gengap-sim: failed: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
