// gengap-sim exact: exact thermal averages of the 1D walk at any time (to ln t = 40 and beyond),
// without stepping; Kesten's 61/45 with Golosov's valley bottom as control variate.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

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
  std::string shard;
};

ExactEnsembleConfig ensemble_config(const ExactParams& p) {
  ExactEnsembleConfig cfg;
  cfg.seed = p.seed;
  cfg.environments = static_cast<std::uint32_t>(p.environments);
  cfg.temperature = p.temperature;
  cfg.half_width = p.half_width;
  cfg.octaves = p.octaves;
  cfg.per_octave = p.per_octave;
  cfg.threads = static_cast<unsigned>(p.threads);
  return cfg;
}

void validate(const ExactParams& p) {
  const auto pot = potential_of(p.pot);
  const auto dyn = make_dynamics(p.dynamics);
  require(p.environments >= 2 && p.environments <= 0xFFFFFFFFll, "environments", p.environments, "must be in [2, 2^32)");
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  require(p.valley_samples == 0 || (p.valley_samples >= 2 && p.valley_samples <= 0xFFFFFFFFll), "valley_samples",
          p.valley_samples, "must be 0 or in [2, 2^32)");
  require(std::isfinite(p.fit_from), "fit_from", p.fit_from, "must be finite");
  {
    // Refused now, not after the whole solve: the fit needs three recorded times at ln t >= fit_from.
    const double ln_t_max = p.octaves * std::log(2.0), step = std::log(2.0) / std::max(1, static_cast<int>(p.per_octave));
    require(p.fit_from <= ln_t_max - 2 * step + 1e-9, "fit_from", p.fit_from,
            "leaves fewer than 3 recorded times to fit (ln t_max = " + to_text(ln_t_max) + " at octaves = " + std::to_string(p.octaves) +
                ", times every " + to_text(step) + " in ln t)");
  }
  const ShardSpec spec = parse_shard(p.shard);
  check_shard_request(spec, static_cast<std::uint64_t>(p.environments), "environments", p.csv_out);
  const auto [begin, end] = shard_range(spec, static_cast<std::uint32_t>(p.environments));
  check_exact_ensemble(*pot, ensemble_config(p), begin, end);
  // The valley bottoms come after the exact solve: check their request now, not after the work.
  const bool sinai = pot->alpha() == 1.0 && pot->increment_variance() > 0;
  if (sinai && p.valley_samples > 0)
    check_valley_request(*pot, p.temperature * p.octaves * std::log(2.0), static_cast<std::uint32_t>(p.valley_samples),
                         static_cast<unsigned>(p.threads), "valley_samples");
  core::check_output_file("json", p.json_out);
  core::check_output_file("csv", p.csv_out);
  core::check_distinct_paths({{"json", p.json_out}, {"csv", p.csv_out}});
}

/// The exact ensemble and, for Sinai potentials, the approach to Kesten's 61/45.
struct ExactRun {
  ExactEnsembleResult r;
  bool sinai = false;
  KestenConvergence kc;
};

/// Solves the ensemble (progress: the fraction of environments solved), then, for Sinai potentials,
/// samples the valley bottoms of the control variate (`on_valleys` is called first: it takes a
/// while, seconds to a minute at 20000 samples, and reports no progress of its own).
ExactRun solve(const ExactParams& p, const std::function<void(double)>& progress, const std::function<void()>& on_valleys = {}) {
  const auto pot = potential_of(p.pot);
  const auto dyn = make_dynamics(p.dynamics);
  ExactEnsembleConfig cfg = ensemble_config(p);
  cfg.progress = progress;
  ExactRun x;
  x.r = sim::run_exact_ensemble(*pot, *dyn, cfg);
  x.sinai = pot->alpha() == 1.0 && pot->increment_variance() > 0;
  if (x.sinai) {
    if (on_valleys && p.valley_samples > 0) on_valleys();
    x.kc = sim::kesten_convergence(x.r, *pot, p.seed, p.temperature, static_cast<std::uint32_t>(p.valley_samples), p.fit_from);
  }
  return x;
}

/// A shard's raw results: its block of environments' series and, for Sinai potentials with valley
/// samples, the valley bottoms of its block of exact environments and of its block of the valley-only
/// environments (at every depth).
ShardData shard_data(const ExactParams& p, const RunHooks& hooks) {
  const auto pot = potential_of(p.pot);
  const auto dyn = make_dynamics(p.dynamics);
  ExactEnsembleConfig cfg = ensemble_config(p);
  cfg.progress = hooks.progress;
  const ShardSpec spec = parse_shard(p.shard);
  const auto [begin, end] = shard_range(spec, cfg.environments);
  const ExactPart part = run_exact_part(*pot, *dyn, cfg, begin, end);
  json d = {{"env_msd", encode_matrix(part.env_msd)},
            {"times", encode_array(part.times)},
            {"ln_t", encode_array(part.ln_t)},
            {"edge_mass", encode_array(part.edge_mass)},
            {"defects_and_seconds", encode_array(std::vector<double>{part.squaring_defect, part.mass_defect, part.seconds})},
            {"half_width", part.half_width}};
  const bool sinai = pot->alpha() == 1.0 && pot->increment_variance() > 0;
  if (sinai && p.valley_samples >= 2) {
    const std::vector<double> g = kesten_depths(part.ln_t, p.temperature);
    const auto v = static_cast<std::uint32_t>(p.valley_samples);
    const auto [vb, ve] = shard_range(spec, v);
    d["valley_exact"] = encode_matrix(kesten_valley_bottoms(*pot, p.seed, g, begin, end, static_cast<unsigned>(p.threads)));
    Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> only(0, static_cast<Eigen::Index>(g.size()));
    if (ve > vb) only = kesten_valley_bottoms(*pot, p.seed, g, cfg.environments + vb, cfg.environments + ve, static_cast<unsigned>(p.threads));
    d["valley_only"] = encode_matrix(only);
  }
  return {d, begin, end};
}

/// The whole run from checked shards: bitwise solve()'s.
ExactRun merged(const ExactParams& p, const ShardSet& set) {
  const auto pot = potential_of(p.pot);
  const ExactEnsembleConfig cfg = ensemble_config(p);
  require_shard_ranges(set, cfg.environments, "environments");
  const bool sinai = pot->alpha() == 1.0 && pot->increment_variance() > 0;
  const bool valleys = sinai && p.valley_samples >= 2;
  const auto v = static_cast<std::uint32_t>(p.valley_samples);
  std::vector<ExactPart> parts;
  std::vector<Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>> vex, vonly;
  for (std::size_t k = 0; k < set.data.size(); ++k) {
    const json& d = set.data[k];
    const std::string where = set.names[k] + ": data.";
    for (const char* key : {"env_msd", "times", "ln_t", "edge_mass", "defects_and_seconds", "half_width"})
      require(d.contains(key), set.names[k], "data", std::string("lacks ") + key + " (damaged or not an exact shard)");
    ExactPart part;
    part.env_begin = set.ranges[k].first;
    part.env_end = set.ranges[k].second;
    part.times = decode_doubles(d["times"], where + "times");
    part.ln_t = decode_doubles(d["ln_t"], where + "ln_t", part.times.size());
    const auto n_t = static_cast<Eigen::Index>(part.times.size());
    part.env_msd = decode_matrix(d["env_msd"], where + "env_msd", part.env_end - part.env_begin, n_t);
    part.edge_mass = decode_doubles(d["edge_mass"], where + "edge_mass", part.times.size());
    const std::vector<double> defects = decode_doubles(d["defects_and_seconds"], where + "defects_and_seconds", 3);
    part.squaring_defect = defects[0];
    part.mass_defect = defects[1];
    part.seconds = defects[2];
    part.half_width = core::json_as<std::int64_t>(d["half_width"], where + "half_width", "");
    if (valleys) {
      require(d.contains("valley_exact") && d.contains("valley_only"), set.names[k], "data", "lacks the valley bottoms (valley_samples >= 2)");
      const auto g = static_cast<Eigen::Index>(kesten_depths(part.ln_t, p.temperature).size());
      const auto [vb, ve] = shard_range(ShardSpec{static_cast<std::uint32_t>(k), set.count}, v);
      vex.push_back(decode_int64_matrix(d["valley_exact"], where + "valley_exact", part.env_end - part.env_begin, g));
      vonly.push_back(decode_int64_matrix(d["valley_only"], where + "valley_only", ve - vb, g));
    }
    parts.push_back(std::move(part));
  }
  ExactRun x;
  x.r = combine_exact(*pot, cfg, parts);
  x.sinai = sinai;
  if (sinai) {
    Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> bottoms;
    if (valleys) {
      bottoms.resize(cfg.environments + v, static_cast<Eigen::Index>(kesten_depths(x.r.ln_t, p.temperature).size()));
      Eigen::Index row = 0;
      for (const auto& m : vex) {
        bottoms.middleRows(row, m.rows()) = m;
        row += m.rows();
      }
      for (const auto& m : vonly) {
        bottoms.middleRows(row, m.rows()) = m;
        row += m.rows();
      }
    }
    x.kc = sim::kesten_convergence(x.r, *pot, p.temperature, v, p.fit_from, bottoms);
  }
  return x;
}

/// The result document (what the CLI writes as JSON).
json document(const ExactParams& p, const ExactRun& x) {
  const auto pot = potential_of(p.pot);
  const auto dyn = make_dynamics(p.dynamics);
  const sim::ExactEnsembleResult& r = x.r;
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
  if (x.sinai) {
    const sim::KestenConvergence& kc = x.kc;
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
  return j;
}

json compute(const ExactParams& p, const RunHooks& hooks) {
  const ExactRun x = solve(p, hooks.progress);
  json j = document(p, x);
  if (hooks.arrays) j["env_msd"] = matrix_rows(x.r.env_msd);
  return j;
}

/// Writes the run's files (CSV, then the JSON) and the convergence table on stderr.
int write(const ExactParams& p, const ExactRun& x) {
  const json j = document(p, x);
  const sim::ExactEnsembleResult& r = x.r;
  const bool sinai = x.sinai;
  const sim::KestenConvergence& kc = x.kc;
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
    core::write_file_atomic(p.csv_out, os.str());
  }
  emit(p.json_out, j.dump(2) + "\n");
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

int run(const ExactParams& p) {
  cli::Progress progress("exact (environments solved)");
  const ExactRun x = solve(p, p.quiet ? std::function<void(double)>() : [&progress](double f) { progress(f); },
                           [&] {
                             progress.done();
                             if (!p.quiet)
                               std::cerr << "exact: solved; now sampling " << p.valley_samples
                                         << " valley bottoms for the control variate (--valley-samples; no progress shown)\n";
                           });
  progress.done();
  return write(p, x);
}

json merge(const ExactParams& p, const ShardSet& set, const RunHooks& hooks) {
  const ExactRun x = merged(p, set);
  json j = document(p, x);
  if (hooks.arrays) j["env_msd"] = matrix_rows(x.r.env_msd);
  return j;
}

}  // namespace

namespace {
/// Declares the command's options on `o`, bound to `p`.
void declare_options(cli::Options& o, ExactParams& p) {
  // s / T = 6: the automatic window for ln t = 40 has about 1000 sites (5 s per environment and core);
  // s / T = 3 is closer to the continuum but needs about 3400 sites (several minutes per environment).
  p.pot.sigma = 6.0;
  add_potential_options(o, p.pot);
  o.add("--dynamics", "dynamics", p.dynamics, "metropolis | heat-bath");
  o.add("-T,--temperature", "temperature", p.temperature, "temperature T > 0");
  o.add("-e,--environments", "environments", p.environments,
        "environments solved exactly (each: octaves dense n x n products)");
  o.add("--octaves", "octaves", p.octaves, "largest time 2^octaves steps (58: ln t = 40.2; at most 62)");
  o.add("--per-octave", "per_octave", p.per_octave, "times per factor 2: 1, 2 or 4");
  o.add("--half-width", "half_width", p.half_width,
        "window [-hw, hw] with reflecting ends (0 = 8 (ln t_max + 1.2 sigma)^2 / sigma^2)");
  o.add("-s,--seed", "seed", p.seed, "master seed (environment e is the same as in gengap-sim walk)");
  o.add("-j,--threads", "threads", p.threads, "environments solved in parallel (0 = all cores); results do not depend on it");
  o.add("--valley-samples", "valley_samples", p.valley_samples,
        "further environments for the valley-bottom control variate (Sinai; 0 = none)");
  o.add("--fit-from", "fit_from", p.fit_from, "fit <x^2>^(1/4) = A (ln t - c) on ln t >= this");
  o.add("--json", "json", p.json_out, "write results as JSON here (default: stdout)");
  o.add("--csv", "csv", p.csv_out, "write the time series as CSV here");
  o.flag("-q,--quiet", "quiet", p.quiet, "no progress on stderr");
  add_shard_option(o, p.shard);
}
}  // namespace

MergedExact merge_exact(const ShardSet& set) {
  require(set.command == "exact", set.names.front() + ": command", set.command, "expected shards of gengap-sim exact");
  CLI::App app;
  cli::Options o(&app);
  ExactParams p;
  declare_options(o, p);
  o.apply_json(set.run, set.names.front() + ": run");
  validate(p);
  const auto pot = potential_of(p.pot);
  require_shard_ranges(set, static_cast<std::uint32_t>(p.environments), "environments");
  MergedExact m;
  ExactParams q = p;
  q.valley_samples = 0;  // the ensemble only: no control variate
  m.result = merged(q, set).r;
  m.config = ensemble_config(p);
  pot->to_json(m.potential);
  m.dynamics = make_dynamics(p.dynamics)->name();
  return m;
}

Command exact_command() {
  return {"exact", "exact thermal averages of the 1D walk at any time (to ln t = 40 and beyond), without stepping",
          [](cli::Options& o) {
            auto p = std::make_shared<ExactParams>();
            declare_options(o, *p);
            return Action{[p] { validate(*p); },
                          [p] { return run(*p); },
                          [p](const RunHooks& h) { return compute(*p, h); },
                          [p](const RunHooks& h) { return shard_data(*p, h); },
                          [p](const ShardSet& set, const RunHooks& h) { return merge(*p, set, h); },
                          [p](const ShardSet& set) { return write(*p, merged(*p, set)); }};
          }};
}

}  // namespace gengap::sim::app
