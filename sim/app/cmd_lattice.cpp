// gengap-sim lattice: walkers on d = 1, 2, 3 lattice Gaussian fields: the growth exponent against d
// and the collapse on T ln t / s.
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
  std::string shard;
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
  const ShardSpec spec = parse_shard(p.shard);
  check_shard_request(spec, static_cast<std::uint64_t>(p.environments), "environments", p.csv_out);
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

sim::LatticeFieldOptions field_options(const LatticeParams& p, std::size_t di) {
  sim::LatticeFieldOptions fo;
  fo.dim = p.dims[di];
  fo.box = p.boxes[di];
  fo.alpha = p.alpha;
  fo.s = p.s;
  fo.subharmonics = p.subharmonics;
  return fo;
}

/// The walks of environments [begin, end) for every dimension (outer) and temperature (inner).
/// `progress(dimension index, fraction of that dimension)`.
std::vector<std::vector<sim::LatticeWalkResult>> walk_all(const LatticeParams& p, const std::function<void(std::size_t, double)>& progress,
                                                          std::uint32_t begin, std::uint32_t end) {
  std::vector<std::vector<sim::LatticeWalkResult>> out;
  for (std::size_t di = 0; di < p.dims.size(); ++di) {
    const sim::LatticeField field(field_options(p, di));
    sim::LatticeWalkConfig cfg = walk_config(p);
    cfg.env_begin = begin;
    cfg.env_end = end;
    if (progress) cfg.progress = [&progress, di](double f) { progress(di, f); };
    // Every field is synthesized once and walked at all temperatures.
    out.push_back(sim::run_lattice_walks(field, *make_dynamics(p.dynamics), cfg, p.temperatures));
    if (progress) progress(di, 1.0);
  }
  return out;
}

/// The result document (what the CLI writes as JSON) of the walks of every environment; the CSV
/// rows go to `csv`; `arrays` adds env_msd per run.
json document(const LatticeParams& p, const std::vector<std::vector<sim::LatticeWalkResult>>& walks, bool arrays, std::ostringstream& csv) {
  const double k_pred = sim::predicted_msd_exponent(p.alpha);
  json runs = json::array(), by_dim = json::array();
  csv << std::setprecision(12) << "dim,temperature,t,x,msd\n";
  for (std::size_t di = 0; di < p.dims.size(); ++di) {
    const sim::LatticeFieldOptions fo = field_options(p, di);
    const sim::LatticeField field(fo);
    std::vector<sim::Curve> curves;
    std::vector<double> ks;
    const std::vector<sim::LatticeWalkResult>& all = walks[di];
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

/// The walks of every environment from checked shards, in environment order: bitwise walk_all()'s.
std::vector<std::vector<sim::LatticeWalkResult>> merged(const LatticeParams& p, const ShardSet& set) {
  require_shard_ranges(set, static_cast<std::uint32_t>(p.environments), "environments");
  const std::vector<std::uint64_t> times = walk_config(p).times;
  std::vector<std::vector<sim::LatticeWalkResult>> out(p.dims.size(), std::vector<sim::LatticeWalkResult>(p.temperatures.size()));
  for (std::size_t di = 0; di < p.dims.size(); ++di) {
    for (std::size_t k = 0; k < p.temperatures.size(); ++k) {
      std::vector<sim::LatticeWalkResult> parts;
      for (std::size_t s = 0; s < set.data.size(); ++s) {
        const json& d = set.data[s];
        const std::string where = set.names[s] + ": data.runs[" + std::to_string(di * p.temperatures.size() + k) + "]";
        require(d.contains("runs") && d["runs"].is_array() && d["runs"].size() == p.dims.size() * p.temperatures.size(), set.names[s], "data",
                "lacks one run per dimension and temperature (damaged or not a lattice shard)");
        const json& r = d["runs"][di * p.temperatures.size() + k];
        for (const char* key : {"env_msd", "max_reach", "walker_steps", "seconds"})
          require(r.contains(key), where, "(incomplete)", std::string("lacks ") + key);
        sim::LatticeWalkResult part;
        part.times = times;
        part.env_msd = decode_matrix(r["env_msd"], where + ".env_msd", set.ranges[s].second - set.ranges[s].first,
                                     static_cast<Eigen::Index>(times.size()));
        part.max_reach = core::json_as<std::int64_t>(r["max_reach"], where + ".max_reach", "");
        part.walker_steps = core::json_as<std::uint64_t>(r["walker_steps"], where + ".walker_steps", "");
        part.seconds = core::json_as<double>(r["seconds"], where + ".seconds", "");
        parts.push_back(std::move(part));
      }
      out[di][k] = sim::combine_lattice_walk(parts);
    }
  }
  return out;
}

ShardData shard_data(const LatticeParams& p, const RunHooks& h) {
  const auto [begin, end] = shard_range(parse_shard(p.shard), static_cast<std::uint32_t>(p.environments));
  std::function<void(std::size_t, double)> progress;
  const double n = static_cast<double>(p.dims.size());
  if (h.progress) progress = [&h, n](std::size_t di, double f) { h.progress((static_cast<double>(di) + f) / n); };
  json runs = json::array();
  for (const auto& dim : walk_all(p, progress, begin, end))
    for (const sim::LatticeWalkResult& r : dim)
      runs.push_back({{"env_msd", encode_matrix(r.env_msd)}, {"max_reach", r.max_reach}, {"walker_steps", r.walker_steps}, {"seconds", r.seconds}});
  return {json{{"runs", runs}}, begin, end};
}

/// Writes the run's files (CSV, then the JSON) and the summary line on stderr.
int write(const LatticeParams& p, const std::vector<std::vector<sim::LatticeWalkResult>>& walks) {
  std::ostringstream csv;
  const json j = document(p, walks, false, csv);
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
  return write(p, walk_all(p, progress, 0, static_cast<std::uint32_t>(p.environments)));
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
              return document(*p, walk_all(*p, progress, 0, static_cast<std::uint32_t>(p->environments)), h.arrays, csv);
            };
            add_shard_option(o, p->shard);
            return Action{[p] { validate(*p); },
                          [p] { return run(*p); },
                          compute,
                          [p](const RunHooks& h) { return shard_data(*p, h); },
                          [p](const ShardSet& set, const RunHooks& h) {
                            std::ostringstream csv;
                            return document(*p, merged(*p, set), h.arrays, csv);
                          },
                          [p](const ShardSet& set) { return write(*p, merged(*p, set)); }};
          }};
}

}  // namespace gengap::sim::app
