// Experiment "sgd_batch": the batch-size experiment in silico — SGD on a random Fourier landscape for
// several batch sizes: log-time fit, exponent against 2/alpha, overlap against iterations vs epochs.
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

struct SgdBatchConfig {
  sim::FourierFieldOptions field;
  std::uint32_t landscapes = 0, walkers = 0;
  double lr = 0;
  std::int64_t small_batch = 0, reference_batch = 0;
  std::vector<std::int64_t> batch_sizes;
  std::string lr_scaling;
  double noise = 0, momentum = 0;
  std::uint64_t t_max = 0;
  int per_decade = 0;
  double samples = 0, fit_tmin = 0;
  double min_delta_aic = 0, exponent_tolerance = 0, max_spread = 0, max_ratio = 0;

  sim::SgdConfig base() const {
    sim::SgdConfig b;
    b.landscapes = landscapes;
    b.walkers = walkers;
    b.momentum = momentum;
    b.noise = noise;
    b.times = sim::log_times(t_max, per_decade);
    b.seed = field.seed;
    return b;
  }

  static SgdBatchConfig parse(const json& c, const std::string& file) {
    SgdBatchConfig s;
    const std::string in = in_file(file);
    core::ObjectReader r(c, in);
    read_header(r);
    core::ObjectReader f = r.child("field");
    f.required("dim", s.field.dim);
    f.required("modes", s.field.modes);
    f.required("alpha", s.field.alpha);
    f.required("k_min", s.field.k_min);
    f.required("k_max", s.field.k_max);
    f.required("strength", s.field.strength);
    f.finish();
    r.required("seed", s.field.seed);
    r.required("landscapes", s.landscapes);
    r.required("walkers", s.walkers);
    r.required("lr", s.lr);
    r.required("small_batch", s.small_batch);
    r.required("batch_sizes", s.batch_sizes);
    r.required("reference_batch", s.reference_batch);
    r.required("lr_scaling", s.lr_scaling);
    r.required("noise", s.noise);
    r.optional("momentum", s.momentum);
    r.required("t_max", s.t_max);
    r.required("per_decade", s.per_decade);
    r.required("samples", s.samples);
    r.required("fit_tmin", s.fit_tmin);
    core::ObjectReader cl = r.child("claims");
    core::ObjectReader lt = cl.child("log_time");
    lt.required("min_delta_aic", s.min_delta_aic);
    lt.ignore_notes();
    lt.finish();
    core::ObjectReader ex = cl.child("exponent");
    ex.required("relative_tolerance", s.exponent_tolerance);
    ex.ignore_notes();
    ex.finish();
    core::ObjectReader ov = cl.child("overlap");
    ov.required("max_spread", s.max_spread);
    ov.required("max_ratio", s.max_ratio);
    ov.ignore_notes();
    ov.finish();
    cl.finish();
    r.finish();
    sim::require(s.lr_scaling == "sqrt" || s.lr_scaling == "none", "lr_scaling", s.lr_scaling, "expected sqrt or none " + in);
    sim::require(s.batch_sizes.size() >= 2, "batch_sizes", s.batch_sizes.size(), "need at least two " + in);
    sim::require(std::find(s.batch_sizes.begin(), s.batch_sizes.end(), s.reference_batch) != s.batch_sizes.end(), "reference_batch",
                 s.reference_batch, "must be one of batch_sizes " + in);
    sim::require(s.samples > 0, "samples", s.samples, "must be > 0 " + in);
    sim::require(std::isfinite(s.fit_tmin), "fit_tmin", s.fit_tmin, "must be finite " + in);
    sim::require(s.t_max >= 10, "t_max", s.t_max, "must be >= 10 " + in);
    for (auto b : s.batch_sizes) sim::require(b >= 1, "batch_sizes", b, "every batch size must be >= 1 " + in);
    sim::SgdConfig probe = s.base();
    probe.lr = s.lr;
    probe.batch = s.small_batch;
    sim::check_sgd(s.field, probe, s.batch_sizes.size());
    return s;
  }
};

json run(const Context& x) {
  const SgdBatchConfig c = SgdBatchConfig::parse(x.config, x.file);
  const sim::FourierFieldOptions& fo = c.field;
  const auto& batches = c.batch_sizes;
  const auto small = c.small_batch;
  const auto reference = c.reference_batch;
  const std::string& scaling = c.lr_scaling;
  const double samples = c.samples;
  const double fit_tmin = c.fit_tmin;
  json out;
  out["verdicts"] = json::array();
  out["batches"] = json::array();
  std::vector<DiffusionFit> fits;
  std::vector<std::string> labels;
  std::vector<sim::Curve> by_it, by_ep;
  std::ostringstream bt, md;
  DiffusionFit ref;
  md << "### " << x.name << ": SGD on a random Fourier landscape (D = " << fo.dim << ", " << fo.modes << " modes, alpha = " << fo.alpha
     << ", strength " << fo.strength << ", noise " << c.noise << ", lr x " << (scaling == "sqrt" ? "sqrt(B/B_s)" : "1")
     << ")\n\n| B | lr | final d | k [95% CI] | beta [95% CI] | AIC(power) - AIC(log) |\n|---|---|---|---|---|---|\n";
  const auto runs = sim::run_batch_sweep(fo, c.base(), c.lr, small, batches, scaling == "sqrt",
                                         gengap::cli::batch_progress("sgd in silico"));
  for (const auto& run : runs) {
    const auto b = run.batch;
    const sim::SgdResult& r = run.result;
    std::ostringstream cv;
    cv << std::setprecision(8) << "iteration,epoch,mean_distance,sd_distance\n";
    sim::Curve ci, ce;
    std::vector<double> all_t;
    for (std::size_t k = 0; k < r.times.size(); ++k) {
      const double t = static_cast<double>(r.times[k]);
      const auto col = r.env_distance.col(static_cast<Eigen::Index>(k));
      const double sd = col.size() > 1 ? std::sqrt((col.array() - col.mean()).square().sum() / static_cast<double>(col.size() - 1)) : 0.0;
      cv << t << ',' << t * static_cast<double>(b) / samples << ',' << r.mean_distance[k] << ',' << sd << '\n';
      ci.x.push_back(t);
      ce.x.push_back(t * static_cast<double>(b) / samples);
      ci.y.push_back(r.mean_distance[k]);
      all_t.push_back(t);
    }
    ce.y = ci.y;
    by_it.push_back(ci);
    by_ep.push_back(ce);
    core::write_file_atomic((x.dir / ("curve_B" + std::to_string(b) + ".csv")).string(), cv.str());
    const auto keep = log_thin(all_t, std::max(fit_tmin, 2.0), 20);
    std::vector<double> t;
    Eigen::MatrixXd rows(r.env_distance.rows(), static_cast<Eigen::Index>(keep.size()));
    for (std::size_t q = 0; q < keep.size(); ++q) {
      t.push_back(all_t[keep[q]]);
      rows.col(static_cast<Eigen::Index>(q)) = r.env_distance.col(static_cast<Eigen::Index>(keep[q]));
    }
    const DiffusionFit f = fit_diffusion(t, rows, 200, fo.seed + static_cast<std::uint64_t>(b));
    if (b == reference) ref = f;
    fits.push_back(f);
    labels.push_back("B = " + std::to_string(b));
    bt << b << ' ';
    out["batches"].push_back({{"batch", b}, {"lr", run.lr}, {"result", r}, {"fits", f.fits}, {"k", f.k}, {"beta", f.beta},
                              {"delta_aic", f.delta_aic}});
    md << "| " << b << " | " << fmt(run.lr, 3) << " | " << fmt(r.mean_distance.back(), 4) << " | " << fmt(f.k, 3) << " [" << fmt(f.k_ci.lo, 3)
       << ", " << fmt(f.k_ci.hi, 3) << "] | " << fmt(f.beta, 3) << " [" << fmt(f.beta_ci.lo, 3) << ", " << fmt(f.beta_ci.hi, 3) << "] | "
       << fmt(f.delta_aic, 3) << " |\n";
  }
  core::write_file_atomic((x.dir / "batch_sizes.txt").string(), bt.str() + "\n");
  out["verdicts"].push_back(log_time_verdict(x.name, fits, labels, c.min_delta_aic));
  out["verdicts"].push_back(exponent_verdict(x.name, "d ~ (ln t)^(2/alpha): k of B = " + std::to_string(reference), ref.k, ref.k_ci,
                                             2 / fo.alpha, c.exponent_tolerance));
  const OverlapCheck o = check_overlap(by_it, by_ep);
  out["overlap"] = {{"iterations", o.iterations.spread}, {"epochs", o.epochs.spread}};
  out["verdicts"].push_back(overlap_verdict(x.name, o, c.max_spread,
                                            c.max_ratio));
  md << "\nOverlap: " << fmt(o.iterations.spread, 3) << " against iterations, " << fmt(o.epochs.spread, 3)
     << " against epochs (epoch = t B / " << fmt(samples, 6) << "). The field saturates beyond d ~ sqrt(D)/k_min = "
     << fmt(std::sqrt(static_cast<double>(fo.dim)) / fo.k_min, 4) << ".\n";
  out["markdown"] = md.str();
  return out;
}


}  // namespace

ExperimentKind sgd_batch_kind() {
  return {"sgd_batch", [](const Context& x) { (void)SgdBatchConfig::parse(x.config, x.file); }, run};
}

}  // namespace gengap::repro
