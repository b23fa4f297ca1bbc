// gengap-sim lattice: walkers on d = 1, 2, 3 lattice Gaussian fields: the growth exponent against d
// and the collapse on T ln t / s.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "gengap/core/io.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct LatticeParams {
  std::vector<int> dims{1, 2, 3};
  std::vector<std::int64_t> boxes{16384, 512, 128};
  double alpha = 1.0;
  double s = 3.0;
  std::vector<double> temperatures{1.0};
  std::string dynamics = "metropolis";
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

LatticeWalkConfig walk_config(const LatticeParams& p) {
  LatticeWalkConfig cfg;
  cfg.seed = p.seed;
  cfg.environments = static_cast<std::uint32_t>(p.environments);
  cfg.walkers_per_env = static_cast<std::uint32_t>(p.walkers);
  cfg.times = log_times(static_cast<std::uint64_t>(p.t_max), p.per_decade);
  cfg.threads = static_cast<unsigned>(p.threads);
  return cfg;
}

void validate(const LatticeParams& p) {
  require(!p.dims.empty(), "dims", "(empty)", "must name at least one dimension");
  require(p.boxes.size() == p.dims.size(), "boxes", p.boxes.size(),
          "must give one box side per dimension in --dims (" + std::to_string(p.dims.size()) + ")");
  require(!p.temperatures.empty(), "temperatures", "(empty)", "must name at least one temperature");
  require(p.environments >= 1 && p.environments <= 0xFFFFFFFFll, "environments", p.environments, "must be in [1, 2^32)");
  require(p.walkers >= 1 && p.walkers <= 0xFFFFFFFFll, "walkers", p.walkers, "must be in [1, 2^32)");
  require(p.t_max >= 10 && p.t_max <= (std::int64_t{1} << 40), "t_max", p.t_max, "must be in [10, 2^40]");
  require(p.per_decade >= 1 && p.per_decade <= 1000, "per_decade", p.per_decade, "must be in [1, 1000]");
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  require(std::isfinite(p.fit_tmin), "fit_tmin", p.fit_tmin, "must be finite");
  (void)make_dynamics(p.dynamics);
  for (std::size_t di = 0; di < p.dims.size(); ++di) {
    LatticeFieldOptions fo;
    fo.dim = p.dims[di];
    fo.box = p.boxes[di];
    fo.alpha = p.alpha;
    fo.s = p.s;
    fo.subharmonics = p.subharmonics;
    check_lattice_options(fo);
    check_lattice_walks(fo, walk_config(p), p.temperatures);
  }
  core::check_output_file("json", p.json_out);
  core::check_output_file("csv", p.csv_out);
  core::check_distinct_paths({{"json", p.json_out}, {"csv", p.csv_out}});
}

/// Runs every dimension and returns the result document (what the CLI writes as JSON); the CSV rows
/// go to `csv`. `progress(dimension index, fraction of that dimension)`; `arrays` adds env_msd per run.
json document(const LatticeParams& p, const std::function<void(std::size_t, double)>& progress, bool arrays, std::ostringstream& csv) {
  const double k_pred = sim::predicted_msd_exponent(p.alpha);
  json runs = json::array(), by_dim = json::array();
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
    sim::LatticeWalkConfig cfg = walk_config(p);
    if (progress) cfg.progress = [&progress, di](double f) { progress(di, f); };
    // Every field is synthesized once and walked at all temperatures.
    const std::vector<sim::LatticeWalkResult> all = sim::run_lattice_walks(field, *make_dynamics(p.dynamics), cfg, p.temperatures);
    if (progress) progress(di, 1.0);
    for (std::size_t k = 0; k < all.size(); ++k) {
      const double temp = p.temperatures[k];
      const sim::LatticeWalkResult& r = all[k];
      const sim::FitWindow w = sim::fit_window(r.times, r.msd, r.env_msd, p.fit_tmin);
      sim::Curve curve;  // the collapse is asymptotic: late times only, those of the fit window
      for (std::size_t i = 0; i < r.times.size(); ++i) {
        const double ti = static_cast<double>(r.times[i]);
        const double x = temp * std::log(ti) / p.s;  // the collapse variable T ln t / s
        csv << fo.dim << ',' << temp << ',' << ti << ',' << x << ',' << r.msd[i] << '\n';
      }
      for (std::size_t c = 0; c < w.t.size(); ++c) {
        curve.x.push_back(temp * std::log(w.t[c]) / p.s);
        curve.y.push_back(w.y[c]);
      }
      json fit;
      if (w.t.size() >= 4) {
        // Bootstrap over environments (when there are >= 2): intervals for every parameter, k of the
        // log-free model among them.
        const sim::BootstrapFits b = sim::fit_window_models(w, 200, 0.95, p.seed, k_pred);
        const std::size_t m = sim::model_index(b.fits, "log-free");
        if (b.resamples > 0) {
          fit["models"] = b;
          for (std::size_t q = 0; q < b.fits[m].names.size(); ++q)
            if (b.fits[m].names[q] == "k") fit["k_ci"] = {b.intervals[m][q].lo, b.intervals[m][q].hi};
        } else {
          fit["models"] = b.fits;
        }
        fit["preferred"] = b.fits.front().model;
        fit["k"] = b.fits[m].param("k");
        ks.push_back(b.fits[m].param("k"));
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
      if (arrays) runs.back()["env_msd"] = matrix_rows(r.env_msd);
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
                     {"sigma", p.s},         {"temperatures", p.temperatures}, {"dynamics", p.dynamics}, {"subharmonics", p.subharmonics},
                     {"environments", p.environments}, {"walkers", p.walkers}, {"t_max", p.t_max},
                     {"per_decade", p.per_decade}, {"fit_tmin", p.fit_tmin}, {"seed", p.seed}};
  j["runs"] = runs;
  j["by_dim"] = by_dim;
  return j;
}

int run(const LatticeParams& p) {
  std::unique_ptr<cli::Progress> line;  // one progress line per dimension
  std::function<void(std::size_t, double)> progress;
  if (!p.quiet)
    progress = [&line, &p](std::size_t di, double f) {
      if (!line) line = std::make_unique<cli::Progress>("lattice d = " + std::to_string(p.dims[di]));
      (*line)(f);
      if (f >= 1) {
        line->done();
        line.reset();
      }
    };
  std::ostringstream csv;
  const json j = document(p, progress, false, csv);
  const json& by_dim = j["by_dim"];
  const double k_pred = sim::predicted_msd_exponent(p.alpha);
  if (!p.csv_out.empty()) core::write_file_atomic(p.csv_out, csv.str());
  emit(p.json_out, j.dump(2) + "\n");
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


}  // namespace

Command lattice_command() {
  return {"lattice", "walkers on d = 1, 2, 3 lattice Gaussian fields: growth exponent vs d, collapse on T ln t / s",
          [](cli::Options& o) {
            auto p = std::make_shared<LatticeParams>();
            o.add("--dims", "dims", p->dims, "lattice dimensions d to run (1, 2, 3)")->delimiter(',');
            o.add("--boxes", "boxes", p->boxes, "periodic box side L per dimension in --dims (powers of two; walkers stay within L/4)")
                ->delimiter(',');
            o.add("-a,--alpha", "alpha", p->alpha, "structure-function exponent, in (0, 2)");
            o.add("--sigma", "sigma", p->s, "s: E[(V(x + e_1) - V(x))^2] = s^2");
            o.add("-T,--temperatures", "temperatures", p->temperatures, "temperatures (several: the collapse on T ln t / s)")
                ->delimiter(',');
            o.add("--dynamics", "dynamics", p->dynamics, "metropolis | heat-bath");
            o.add("--subharmonics", "subharmonics", p->subharmonics, "subharmonic levels below the box's lowest wave number");
            o.add("-e,--environments", "environments", p->environments, "independent fields per run");
            o.add("-w,--walkers", "walkers", p->walkers, "walkers per field");
            o.add("-t,--t-max", "t_max", p->t_max, "last recording time (steps)");
            o.add("--per-decade", "per_decade", p->per_decade, "recording times per decade");
            o.add("--fit-tmin", "fit_tmin", p->fit_tmin, "fit <|x|^2> = B (ln t - c)^k on t >= this");
            o.add("-s,--seed", "seed", p->seed, "master seed");
            o.add("-j,--threads", "threads", p->threads, "threads (0 = all); results do not depend on it");
            o.add("--json", "json", p->json_out, "write results as JSON here (default: stdout)");
            o.add("--csv", "csv", p->csv_out, "write the curves as CSV here (dim, temperature, t, x, msd)");
            o.flag("-q,--quiet", "quiet", p->quiet, "no progress on stderr");
            auto compute = [p](const RunHooks& h) {
              std::ostringstream csv;
              std::function<void(std::size_t, double)> progress;
              const double n = static_cast<double>(p->dims.size());
              if (h.progress) progress = [&h, n](std::size_t di, double f) { h.progress((static_cast<double>(di) + f) / n); };
              return document(*p, progress, h.arrays, csv);
            };
            return Action{[p] { validate(*p); }, [p] { return run(*p); }, compute};
          }};
}

}  // namespace gengap::sim::app
