// gengap-sim sgd: noisy gradient descent on a high-dimensional random landscape, the batch-size
// experiment in silico.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "gengap/core/io.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct SgdParams {
  FourierFieldOptions field;
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

SgdConfig base_config(const SgdParams& p) {
  SgdConfig base;
  base.landscapes = p.landscapes;
  base.walkers = p.walkers;
  base.momentum = p.momentum;
  base.noise = p.noise;
  base.times = log_times(p.t_max, p.per_decade);
  base.seed = p.seed;
  base.threads = static_cast<unsigned>(p.threads);
  return base;
}

void validate(const SgdParams& p) {
  require(p.lr_scaling == "sqrt" || p.lr_scaling == "none", "lr_scaling", p.lr_scaling, "expected sqrt or none");
  require(p.samples > 0 && std::isfinite(p.samples), "samples", p.samples, "must be finite and > 0");
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  require(p.t_max >= 10, "t_max", p.t_max, "must be >= 10");
  require(p.per_decade >= 1 && p.per_decade <= 1000, "per_decade", p.per_decade, "must be in [1, 1000]");
  require(std::isfinite(p.fit_tmin), "fit_tmin", p.fit_tmin, "must be finite");
  require(p.lr > 0 && std::isfinite(p.lr), "lr", p.lr, "must be finite and > 0");
  require(p.small_batch >= 1, "small_batch", p.small_batch, "must be >= 1");
  require(!p.batch_sizes.empty(), "batch_sizes", "[]", "need at least one batch size");
  for (auto b : p.batch_sizes) require(b >= 1, "batch_sizes", b, "every batch size must be >= 1");
  SgdConfig c = base_config(p);
  c.lr = p.lr;
  c.batch = p.small_batch;
  check_sgd(p.field, c, p.batch_sizes.size());  // the field's options, sizes, memory and work
  core::check_output_file("json", p.json_out);
  core::check_output_file("csv", p.csv_out);
  core::check_distinct_paths({{"json", p.json_out}, {"csv", p.csv_out}});
}

/// Runs the sweep and returns the result document (what the CLI writes as JSON); the CSV rows go to
/// `csv`. `arrays` adds each batch's env_distance (row = landscape, column = time).
json document(const SgdParams& p, const std::function<void(std::int64_t, double)>& progress, bool arrays, std::ostringstream& csv) {
  json j;
  j["parameters"] = {{"dim", p.field.dim},         {"modes", p.field.modes},     {"alpha", p.field.alpha},
                     {"k_min", p.field.k_min},     {"k_max", p.field.k_max},     {"strength", p.field.strength},
                     {"landscapes", p.landscapes}, {"walkers", p.walkers},       {"lr", p.lr},
                     {"small_batch", p.small_batch}, {"lr_scaling", p.lr_scaling}, {"momentum", p.momentum},
                     {"noise", p.noise},           {"t_max", p.t_max},           {"samples", p.samples},
                     {"seed", p.seed}};
  j["saturation_distance"] = std::sqrt(static_cast<double>(p.field.dim)) / p.field.k_min;
  j["batches"] = json::array();
  std::vector<Curve> by_it, by_ep;
  csv << std::setprecision(10) << "batch,t,epoch,distance\n";
  const auto runs = run_batch_sweep(p.field, base_config(p), p.lr, p.small_batch, p.batch_sizes, p.lr_scaling == "sqrt", progress);
  for (const auto& run : runs) {
    const auto b = run.batch;
    const SgdResult& r = run.result;
    Curve ci, ce;
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
    if (arrays) bj["env_distance"] = matrix_rows(r.env_distance);
    if (t.size() >= 5) {
      Eigen::MatrixXd rows(r.env_distance.rows(), static_cast<Eigen::Index>(cols.size()));
      for (std::size_t k = 0; k < cols.size(); ++k) rows.col(static_cast<Eigen::Index>(k)) = r.env_distance.col(cols[k]);
      const double k_pred = 2 / p.field.alpha;  // d ~ (ln t)^(2/alpha)
      bj["fits"] = bootstrap_fits(t, rows, 200, 0.95, p.seed,
                                  ModelComparer([k_pred](const std::vector<double>& tt, const std::vector<double>& yy) {
                                    return compare_distance_models(tt, yy, k_pred);
                                  }));
    }
    j["batches"].push_back(bj);
  }
  if (by_it.size() >= 2) {
    const auto oi = curve_overlap(by_it), oe = curve_overlap(by_ep);
    j["overlap"] = {{"iterations", oi.spread}, {"epochs", oe.spread}};
  }
  return j;
}

int run(const SgdParams& p) {
  std::ostringstream csv;
  const json j = document(p, cli::batch_progress("sgd"), false, csv);
  if (j.contains("overlap"))
    std::cerr << "sgd: overlap spread " << j["overlap"]["iterations"].get<double>() << " against iterations, "
              << j["overlap"]["epochs"].get<double>() << " against epochs\n";
  if (!p.csv_out.empty()) core::write_file_atomic(p.csv_out, csv.str());
  emit(p.json_out, j.dump(2) + "\n");
  return 0;
}

}  // namespace

Command sgd_command() {
  return {"sgd", "noisy gradient descent on a high-dimensional random landscape: the batch-size experiment in silico",
          [](cli::Options& o) {
            auto p = std::make_shared<SgdParams>();
            o.add("--dim", "dim", p->field.dim, "dimension D of the landscape");
            o.add("--modes", "modes", p->field.modes, "Fourier modes M");
            o.add("-a,--alpha", "alpha", p->field.alpha, "structure-function exponent, in (0, 2)");
            o.add("--k-min", "k_min", p->field.k_min, "smallest mode frequency (field saturates beyond sqrt(D)/k_min)");
            o.add("--k-max", "k_max", p->field.k_max, "largest mode frequency");
            o.add("--strength", "strength", p->field.strength, "s: E[(V(w + r u) - V(w))^2] = s^2 (r/sqrt(D))^alpha");
            o.add("-e,--landscapes", "landscapes", p->landscapes, "independent landscapes");
            o.add("-w,--walkers", "walkers", p->walkers, "walkers per landscape");
            o.add("--lr", "lr", p->lr, "learning rate at the small batch");
            o.add("--small-batch", "small_batch", p->small_batch, "B_s: the batch the lr is given for");
            o.add("-B,--batch-sizes", "batch_sizes", p->batch_sizes, "batch sizes to compare")->delimiter(',');
            o.add("--lr-scaling", "lr_scaling", p->lr_scaling, "sqrt (lr x sqrt(B/B_s)) or none");
            o.add("--momentum", "momentum", p->momentum, "heavy-ball momentum in [0, 1)");
            o.add("--noise", "noise", p->noise, "std per coordinate of one sample's gradient noise");
            o.add("-t,--t-max", "t_max", p->t_max, "last iteration");
            o.add("--per-decade", "per_decade", p->per_decade, "recording times per decade");
            o.add("--samples", "samples", p->samples, "notional training-set size N: epochs = t B / N");
            o.add("--fit-tmin", "fit_tmin", p->fit_tmin, "fit d(t) from this iteration on");
            o.add("-s,--seed", "seed", p->seed, "master seed (landscapes and noise)");
            o.add("-j,--threads", "threads", p->threads, "threads (0 = all)");
            o.add("--json", "json", p->json_out, "write results as JSON here (default: stdout)");
            o.add("--csv", "csv", p->csv_out, "write the distance curves as CSV here (batch, t, epoch, distance)");
            auto compute = [p](const RunHooks& h) {
              std::ostringstream csv;
              std::function<void(std::int64_t, double)> progress;
              if (h.progress) {
                // The sweep's fraction: batch sizes done (a fraction of 1 ends one) plus the current one's.
                const double n = static_cast<double>(p->batch_sizes.size());
                progress = [&h, n, finished = 0.0, ended = false](std::int64_t, double f) mutable {
                  if (ended && f < 1) {
                    finished += 1;
                    ended = false;
                  }
                  if (f >= 1) ended = true;
                  h.progress(std::min(1.0, (finished + std::min(f, 1.0)) / n));
                };
              }
              return document(*p, progress, h.arrays, csv);
            };
            return Action{[p] { validate(*p); }, [p] { return run(*p); }, compute, {}, {}, {}};
          }};
}

}  // namespace gengap::sim::app
