// The landscape and the noise measured on a weight-distance experiment's runs (landscape_check.hpp).
#include "landscape_check.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <torch/cuda.h>
#include <torch/types.h>

#include "gengap/core/io.hpp"
#include "gengap/sim/roughness.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/landscape.hpp"
#include "gengap/train/run_log.hpp"
#include "train_common.hpp"

namespace gengap::repro::detail {
namespace fs = std::filesystem;
namespace rl = train::run_log;
using nlohmann::json;

void LandscapeSettings::read(core::ObjectReader& r, const std::string& in) {
  core::ObjectReader l = r.child("landscape");
  l.required("checkpoints", checkpoints);
  l.required("seeds", seeds);
  l.optional("directions", directions);
  l.optional("radii", radii);
  l.optional("barrier_snapshots", barrier_snapshots);
  l.optional("barrier_points", barrier_points);
  l.optional("resamples", resamples);
  l.optional("seed", seed);
  l.required("travel_fraction", travel_fraction);
  l.required("alpha_rough", alpha_rough);
  l.required("premise_max_deviation", premise_max_deviation);
  l.optional("premise_window", premise_window);
  l.ignore_notes();
  l.finish();
  sim::require(!checkpoints.empty(), "landscape.checkpoints", "[]", "need at least one " + in);
  for (double f : checkpoints) sim::require(f > 0 && f <= 1, "landscape.checkpoints", f, "fractions of T must lie in (0, 1] " + in);
  sim::require(!seeds.empty(), "landscape.seeds", "[]", "need at least one " + in);
  sim::require(directions >= 2, "landscape.directions", directions, "must be >= 2 " + in);
  sim::require(radii >= 3, "landscape.radii", radii, "must be >= 3 " + in);
  sim::require(barrier_snapshots >= 3, "landscape.barrier_snapshots", barrier_snapshots, "must be >= 3 " + in);
  sim::require(barrier_points >= 3, "landscape.barrier_points", barrier_points, "must be >= 3 " + in);
  sim::require(resamples >= 10, "landscape.resamples", resamples, "must be >= 10 " + in);
  sim::require(travel_fraction > 0 && travel_fraction < 1, "landscape.travel_fraction", travel_fraction, "must lie in (0, 1) " + in);
  sim::require(alpha_rough > 0 && alpha_rough <= 2, "landscape.alpha_rough", alpha_rough, "must lie in (0, 2] " + in);
  sim::require(premise_max_deviation > 0, "landscape.premise_max_deviation", premise_max_deviation, "must be > 0 " + in);
  sim::require(premise_window > 1, "landscape.premise_window", premise_window, "must be > 1 " + in);
}

std::vector<std::int64_t> checkpoint_iterations(const LandscapeSettings& s, std::int64_t T) {
  std::set<std::int64_t> c;
  for (double f : s.checkpoints) c.insert(std::clamp<std::int64_t>(std::llround(f * static_cast<double>(T)), 1, T));
  return {c.begin(), c.end()};
}

std::vector<std::int64_t> barrier_iterations(const LandscapeSettings& s, std::int64_t T) {
  const double lo = std::max(1.0, static_cast<double>(T) / 100), hi = static_cast<double>(T);
  std::set<std::int64_t> c;
  for (int i = 0; i < s.barrier_snapshots; ++i)
    c.insert(std::clamp<std::int64_t>(std::llround(lo * std::pow(hi / lo, i / static_cast<double>(s.barrier_snapshots - 1))), 1, T));
  return {c.begin(), c.end()};
}

std::vector<std::int64_t> snapshot_iterations(const LandscapeSettings& s, std::int64_t T) {
  std::set<std::int64_t> c{0};
  for (auto t : checkpoint_iterations(s, T)) {
    c.insert(t);
    c.insert(t - 1);
  }
  for (auto t : barrier_iterations(s, T)) c.insert(t);
  return {c.begin(), c.end()};
}

namespace {

std::vector<double> log_space(double a, double b, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(a * std::pow(b / a, i / static_cast<double>(n - 1)));
  return v;
}

/// The model's trainable parameters after loading snapshot `t` of the run in `dir` (clones).
std::vector<torch::Tensor> load_iterate(torch::nn::Sequential& model, const fs::path& dir, std::int64_t t, const torch::Device& dev) {
  const fs::path f = dir / rl::kSnapshotDir / rl::snapshot_file(t);
  train::load_snapshot(*model, core::read_file(f.string(), "snapshot", std::uint64_t{1} << 34), f.string(), dev);
  std::vector<torch::Tensor> w;
  for (const auto& p : model->parameters())
    if (p.requires_grad()) w.push_back(p.detach().clone());
  return w;
}

double distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double sq = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sq += (a[i].to(torch::kDouble) - b[i].to(torch::kDouble)).square().sum().item<double>();
  return std::sqrt(sq);
}

std::string interval(double v, sim::Interval ci) { return fmt(v, 3) + " [" + fmt(ci.lo, 3) + ", " + fmt(ci.hi, 3) + "]"; }

}  // namespace

json measure_landscape(const LandscapeSettings& s, const std::vector<ProbedRun>& runs, std::int64_t T, const fs::path& dir,
                       const std::string& experiment, std::vector<Verdict>* verdicts, std::string* md) {
  json out = {{"probe", "the first probe_size training samples; batch norm on the whole probe's statistics at each w (ProbeNorm::kProbeBatch)"},
              {"directions", "Gaussian, rescaled per parameter tensor to that tensor's norm, then to unit length over all parameters"},
              {"runs", json::array()}};
  if (runs.empty()) return out;
  const torch::Device dev = torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const auto [train_set, test_set] = train::training_data(runs.front().cfg);
  const std::int64_t n = std::min<std::int64_t>(runs.front().cfg.probe_size, train_set.size());
  const torch::Tensor px = train_set.images.narrow(0, 0, n).to(dev), py = train_set.labels.narrow(0, 0, n).to(dev);
  std::ostringstream sc, ac, bc, m;
  sc << std::setprecision(8) << "batch,seed,t,r,S\n";
  ac << std::setprecision(8) << "batch,seed,t,r_mid,alpha,alpha_lo,alpha_hi\n";
  bc << std::setprecision(8) << "batch,seed,s,t,distance,barrier\n";
  m << "\n#### Landscape (estimators b and c)\n\nProbe: the first " << n << " training samples, batch norm on the whole probe's statistics at each w. "
    << "(b) S(r) = mean over " << s.directions << " directions u (per-layer shape, unit norm) of (L(w + r u) - L(w))^2 at " << s.radii
    << " radii log-spaced from one update's step ||w_t - w_{t-1}|| to d(t) = ||w_t - w_0||; alpha = slope of ln S on ln r over r >= "
    << fmt(s.travel_fraction, 3) << " d(t) (the distances travelled), 95% bootstrap over directions. "
    << "alpha = 2 at small r is the smoothness of any differentiable loss; the random-potential picture needs alpha < 2 where the weights travel. "
    << "(c) the highest loss on the straight segment between two iterates above its higher end, against their distance; slope of ln barrier on ln distance.\n\n"
    << "| B | seed | t | step | d(t) | alpha on [" << fmt(s.travel_fraction, 2) << " d, d] | alpha(r) at the smallest r |\n|---|---|---|---|---|---|---|\n";
  std::vector<Labelled> rough;
  std::map<std::int64_t, std::pair<std::vector<double>, std::vector<double>>> pairs;  // per B: distances, barriers
  const auto checkpoints = checkpoint_iterations(s, T);
  const auto iterates = barrier_iterations(s, T);
  std::size_t done = 0;
  for (const auto& run : runs) {
    std::cerr << "[" << experiment << "] landscape " << ++done << "/" << runs.size() << ": B = " << run.batch << ", seed " << run.cfg.seed << '\n';
    const fs::path rdir(run.cfg.out_dir);
    torch::nn::Sequential model = train::run_model(run.cfg, train_set, test_set, dev);
    const auto loss = [&] {
      return train::fixed_probe_loss(*model, [&model](const torch::Tensor& v) { return model->forward(v); }, px, py, train::ProbeNorm::kProbeBatch);
    };
    const auto w0 = load_iterate(model, rdir, 0, dev);
    json rj = {{"batch", run.batch}, {"seed", run.cfg.seed}, {"checkpoints", json::array()}};
    for (std::size_t ci = 0; ci < checkpoints.size(); ++ci) {
      const std::int64_t t = checkpoints[ci];
      const auto prev = load_iterate(model, rdir, t - 1, dev);
      const auto wt = load_iterate(model, rdir, t, dev);  // the model now stands at w_t
      const double step = distance(wt, prev), d = distance(wt, w0);
      if (!(step > 0) || !(d > 1.5 * step)) {
        rj["checkpoints"].push_back({{"t", t}, {"step", step}, {"distance", d}, {"left_out", "d(t) is not above 1.5 steps"}});
        continue;
      }
      train::LandscapeProbeOptions o;
      o.radii = log_space(step, d, s.radii);
      o.directions = s.directions;
      o.seed = s.seed + 1000 * ci;
      o.scale = train::DirectionScale::kPerLayer;
      const auto inc = train::loss_increments(*model, loss, o);
      Eigen::MatrixXd sq(static_cast<Eigen::Index>(inc.size()), static_cast<Eigen::Index>(o.radii.size()));
      for (std::size_t i = 0; i < inc.size(); ++i)
        for (std::size_t k = 0; k < inc[i].size(); ++k) sq(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = inc[i][k];
      const sim::StructureCurve all = sim::structure_curve(o.radii, sq, s.resamples, 0.95, s.seed + 7 + ci);
      // The travelled range: r >= travel_fraction d.
      std::vector<double> rr;
      std::vector<Eigen::Index> cols;
      for (std::size_t k = 0; k < o.radii.size(); ++k)
        if (o.radii[k] >= s.travel_fraction * d * (1 - 1e-12)) {
          rr.push_back(o.radii[k]);
          cols.push_back(static_cast<Eigen::Index>(k));
        }
      Eigen::MatrixXd sqt(sq.rows(), static_cast<Eigen::Index>(cols.size()));
      for (std::size_t k = 0; k < cols.size(); ++k) sqt.col(static_cast<Eigen::Index>(k)) = sq.col(cols[k]);
      double slope = std::nan(""), lo = std::nan(""), hi = std::nan("");
      if (rr.size() >= 2) {
        const sim::StructureCurve travel = sim::structure_curve(rr, sqt, s.resamples, 0.95, s.seed + 11 + ci);
        slope = travel.slope;
        lo = travel.slope_ci.lo;
        hi = travel.slope_ci.hi;
      }
      const std::string label = "B = " + std::to_string(run.batch) + " s" + std::to_string(run.cfg.seed) + " t = " + std::to_string(t);
      rough.push_back({label, slope, {lo, hi}});
      for (std::size_t k = 0; k < all.r.size(); ++k) sc << run.batch << ',' << run.cfg.seed << ',' << t << ',' << all.r[k] << ',' << all.s[k] << '\n';
      for (std::size_t k = 0; k < all.alpha.size(); ++k)
        ac << run.batch << ',' << run.cfg.seed << ',' << t << ',' << all.r_mid[k] << ',' << all.alpha[k] << ',' << all.alpha_ci[k].lo << ','
           << all.alpha_ci[k].hi << '\n';
      m << "| " << run.batch << " | " << run.cfg.seed << " | " << t << " | " << fmt(step, 3) << " | " << fmt(d, 3) << " | "
        << interval(slope, {lo, hi}) << " | " << interval(all.alpha.front(), all.alpha_ci.front()) << " |\n";
      rj["checkpoints"].push_back({{"t", t}, {"step", step}, {"distance", d}, {"radii", o.radii}, {"S", all.s}, {"alpha", all.alpha},
                                   {"r_mid", all.r_mid}, {"alpha_travel", slope}, {"alpha_travel_ci", {lo, hi}}, {"slope_all", all.slope},
                                   {"slope_all_ci", {all.slope_ci.lo, all.slope_ci.hi}}});
    }
    // (c): every pair of iterates.
    std::vector<std::vector<torch::Tensor>> ws;
    for (auto t : iterates) ws.push_back(load_iterate(model, rdir, t, dev));
    for (std::size_t i = 0; i < ws.size(); ++i)
      for (std::size_t j = i + 1; j < ws.size(); ++j) {
        const double dist = distance(ws[i], ws[j]);
        if (!(dist > 0)) continue;
        const double b = sim::barrier_height(train::segment_losses(*model, loss, ws[i], ws[j], s.barrier_points));
        pairs[run.batch].first.push_back(dist);
        pairs[run.batch].second.push_back(b);
        bc << run.batch << ',' << run.cfg.seed << ',' << iterates[i] << ',' << iterates[j] << ',' << dist << ',' << b << '\n';
      }
    out["runs"].push_back(rj);
  }
  core::write_file_atomic((dir / "structure.csv").string(), sc.str());
  core::write_file_atomic((dir / "alpha_curve.csv").string(), ac.str());
  core::write_file_atomic((dir / "barriers.csv").string(), bc.str());
  m << "\nBarriers (c), per B over every pair of " << iterates.size() << " iterates in [T/100, T] and the probed seeds:\n\n"
    << "| B | pairs | share without barrier | slope of ln barrier on ln distance |\n|---|---|---|---|\n";
  out["barriers"] = json::array();
  for (const auto& [b, p] : pairs) {
    if (p.first.size() < 3) continue;
    const sim::BarrierScaling bs = sim::barrier_scaling(p.first, p.second, s.resamples, 0.95, s.seed + 23);
    m << "| " << b << " | " << bs.pairs << " | " << fmt(bs.zero_fraction, 3) << " | "
      << (std::isfinite(bs.slope) ? interval(bs.slope, bs.slope_ci) : std::string("- (fewer than 3 pairs with a barrier)")) << " |\n";
    out["barriers"].push_back({{"batch", b}, {"pairs", bs.pairs}, {"zero_fraction", bs.zero_fraction},
                               {"slope", std::isfinite(bs.slope) ? json(bs.slope) : json(nullptr)},
                               {"slope_ci", std::isfinite(bs.slope) ? json({bs.slope_ci.lo, bs.slope_ci.hi}) : json(nullptr)}});
  }
  m << "\nThe barrier slope measures roughness only roughly: on Fourier fields of known alpha it exceeds alpha/2 (docs/pages/landscape.md).\n";
  Verdict v = below_bound_verdict(experiment, "the loss is rough where the weights travel: alpha < " + fmt(s.alpha_rough, 3) +
                                                  " over r in [" + fmt(s.travel_fraction, 2) + " d(t), d(t)] (estimator b)",
                                  rough, s.alpha_rough);
  v.expected = "alpha < 2 (random potential; the authors' gamma = 1 means alpha = 2)";
  verdicts->push_back(v);
  *md += m.str();
  return out;
}

json check_premise(const LandscapeSettings& s, const std::vector<NoiseRun>& runs, std::int64_t reference_batch, std::int64_t T, const fs::path& dir,
                   const std::string& experiment, std::vector<Verdict>* verdicts, std::string* md) {
  const auto checkpoints = checkpoint_iterations(s, T);
  std::vector<double> tc(checkpoints.begin(), checkpoints.end());
  // Per (rule, B): rows = runs, columns = checkpoints, v = lr^2 trace / B averaged over the records near t_c.
  std::map<std::pair<std::string, std::int64_t>, std::vector<std::vector<double>>> v;
  std::map<std::int64_t, std::vector<std::map<std::string, std::vector<double>>>> sqrt_noise;
  for (const auto& r : runs) {
    const auto cols = csv_columns(r.dir / rl::kNoiseFile);
    const auto& it = cols.at(rl::kIteration);
    const auto& tr = cols.at(rl::kTrace);
    std::vector<double> row;
    for (double t : tc) {
      double sum = 0;
      int k = 0;
      for (std::size_t i = 0; i < it.size(); ++i)
        if (it[i] >= t / std::sqrt(s.premise_window) && it[i] <= t * std::sqrt(s.premise_window) && it[i] <= static_cast<double>(T)) {
          sum += tr[i];
          ++k;
        }
      row.push_back(k > 0 ? r.lr * r.lr * (sum / k) / static_cast<double>(r.batch) : std::nan(""));
    }
    v[{r.rule, r.batch}].push_back(row);
    if (r.rule == "sqrt") sqrt_noise[r.batch].push_back(cols);
  }
  auto curve = [&](const std::string& rule, std::int64_t b) {
    sim::CurveRuns c;
    c.t = tc;
    const auto& rows = v.at({rule, b});
    c.runs.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(tc.size()));
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t k = 0; k < tc.size(); ++k) c.runs(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = rows[i][k];
    return c;
  };
  std::ostringstream pc;
  pc << std::setprecision(8) << "rule,batch,t,mean_v,sd_v,runs\n";
  for (const auto& [key, rows] : v)
    for (std::size_t k = 0; k < tc.size(); ++k) {
      double mu = 0, sd = 0;
      for (const auto& r : rows) mu += r[k] / static_cast<double>(rows.size());
      for (const auto& r : rows) sd += (r[k] - mu) * (r[k] - mu);
      sd = rows.size() > 1 ? std::sqrt(sd / static_cast<double>(rows.size() - 1)) : 0.0;
      pc << key.first << ',' << key.second << ',' << tc[k] << ',' << mu << ',' << sd << ',' << rows.size() << '\n';
    }
  core::write_file_atomic((dir / "premise.csv").string(), pc.str());
  // B_simple along training: ratio of the seed means of trace and |G|^2 per record.
  for (const auto& [b, cs] : sqrt_noise) {
    std::ostringstream nc;
    nc << std::setprecision(8) << "iteration,trace,grad_sq,b_simple\n";
    const auto& it = cs.front().at(rl::kIteration);
    for (std::size_t i = 0; i < it.size(); ++i) {
      double tr = 0, g2 = 0;
      for (const auto& c : cs) {
        tr += c.at(rl::kTrace)[i] / static_cast<double>(cs.size());
        g2 += c.at(rl::kGradSq)[i] / static_cast<double>(cs.size());
      }
      nc << it[i] << ',' << tr << ',' << g2 << ',' << (g2 > 0 ? tr / g2 : -1.0) << '\n';
    }
    core::write_file_atomic((dir / ("noise_B" + std::to_string(b) + ".csv")).string(), nc.str());
  }
  json out = {{"checkpoints", checkpoints}, {"what", "v = lr^2 tr(Sigma) / B, tr(Sigma) from noise.csv (micro-batches), averaged over the records in [t/sqrt(w), t sqrt(w)]"}};
  const std::string claim = "lr x sqrt(B/B_s) keeps one update's increment covariance lr^2 tr(Sigma)/B the same for every B";
  bool finite = true;
  for (const auto& [key, rows] : v)
    for (const auto& r : rows)
      for (double x : r) finite = finite && std::isfinite(x) && x > 0;
  if (!v.count({"sqrt", reference_batch}) || !finite) {
    verdicts->push_back(undecided_verdict(experiment, claim, "equal across B", "-", "see the config",
                                          "a run has no noise record near a checkpoint (or no reference batch)"));
    return out;
  }
  const sim::CurveRuns ref = curve("sqrt", reference_batch);
  std::vector<sim::CurveRuns> scaled;
  for (const auto& [key, rows] : v)
    if (key.first == "sqrt" && key.second != reference_batch) scaled.push_back(curve("sqrt", key.second));
  std::vector<std::pair<std::string, sim::Deviation>> controls;
  for (const char* rule : {"none", "linear"}) {
    std::vector<sim::CurveRuns> cs;
    for (const auto& [key, rows] : v)
      if (key.first == rule && key.second != reference_batch) cs.push_back(curve(rule, key.second));
    if (!cs.empty())
      controls.emplace_back(std::string(rule) == "none" ? "no lr scaling" : "linear lr scaling",
                            sim::max_relative_deviation(ref, cs, tc.front(), tc.back()));
  }
  if (scaled.empty()) {
    verdicts->push_back(undecided_verdict(experiment, claim, "equal across B", "-", "see the config", "only the reference batch was run"));
    return out;
  }
  const sim::Deviation dev = sim::max_relative_deviation(ref, scaled, tc.front(), tc.back());
  Verdict pv = overlap_verdict(experiment, claim, dev, controls, s.premise_max_deviation, "v_B/v_ref");
  pv.measured += " at t = ";
  for (std::size_t k = 0; k < tc.size(); ++k) pv.measured += (k ? ", " : "") + fmt(tc[k], 5);
  verdicts->push_back(pv);
  out["deviation"] = {{"value", dev.value}, {"lo", dev.lo}, {"hi", dev.hi}, {"at_t", dev.at_t}};
  for (const auto& [name, d] : controls) out["controls"][name] = {{"value", d.value}, {"lo", d.lo}, {"hi", d.hi}};
  std::ostringstream m;
  m << "\n#### The sqrt(B) premise and the gradient noise scale\n\nv = lr^2 tr(Sigma)/B, the trace of one update's increment covariance, "
    << "with tr(Sigma) the per-sample gradient covariance estimated from micro-batches of each update's batch (noise.csv, at the run's own weights), "
    << "averaged over the records within a factor sqrt(" << fmt(s.premise_window, 3) << ") of each checkpoint. " << pv.measured << ": **"
    << sim::outcome_name(pv.outcome) << "** (" << pv.reason << "). Per rule and B: premise.csv; B_simple = tr(Sigma)/|G|^2 along training: noise_B*.csv.\n";
  *md += m.str();
  return out;
}

}  // namespace gengap::repro::detail
