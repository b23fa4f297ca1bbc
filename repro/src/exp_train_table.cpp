// Experiment "train_table": the paper's Table 1 row(s) — SB, LB, +LR, +GBN, +RA — with the error
// curves of Fig. 3.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "gengap/core/io.hpp"
#include "gengap/train/run_log.hpp"
#include "train_common.hpp"

namespace gengap::repro {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

struct Column {
  std::string tag, title;
  bool large, sqrt_lr, gbn, adapt;
  std::int64_t batch = 0;         // 0 = the large batch
  std::int64_t lr_reference = 0;  // the batch the regime's lr belongs to (0 = the row's)
};

struct TableRow {
  TrainBase base;
  std::int64_t large_batch = 0;
  std::string paper_data;
  std::vector<double> paper_accuracy;
};

struct Job {
  train::TrainConfig cfg;
  std::size_t row, col;
  std::string label;
};

struct TrainTableConfig {
  TrainBase top;
  std::int64_t large_batch = 0;
  std::vector<std::uint64_t> seeds;
  std::vector<TableRow> rows;
  std::vector<std::int64_t> extra_adapted_batches;
  std::int64_t ra_batch = 0;                // the batch of the +RA column (0 = large_batch): a smaller LB when 32x the epochs do not fit
  std::int64_t alternative_lr_reference = 0;  // a second +LR column whose lr belongs to this batch (the authors' main_normal.py: 256)
  double min_gap = 0, closed_tol = 0, ordering_tol = 0, min_generalization_gap = 0;

  static TrainTableConfig parse(const json& c, const std::string& file) {
    TrainTableConfig s;
    const std::string in = in_file(file);
    core::ObjectReader r(c, in);
    read_header(r);
    s.top.read(r);
    r.required("large_batch", s.large_batch);
    r.required("seeds", s.seeds);
    r.optional("extra_adapted_batches", s.extra_adapted_batches);
    r.optional("ra_batch", s.ra_batch);
    r.optional("alternative_lr_reference", s.alternative_lr_reference);
    json nets;
    r.required("networks", nets);
    sim::require(nets.is_array() && !nets.empty(), "networks", gengap::core::json_excerpt(nets), "need a non-empty array " + in);
    for (std::size_t i = 0; i < nets.size(); ++i) {
      TableRow row;
      row.base = s.top;
      row.large_batch = s.large_batch;
      core::ObjectReader nr(nets[i], in, "networks[" + std::to_string(i) + "].");
      row.base.read(nr);
      nr.optional("large_batch", row.large_batch);
      if (nr.has("paper_row")) {
        core::ObjectReader pr = nr.child("paper_row");
        pr.required("data", row.paper_data);
        pr.required("accuracy", row.paper_accuracy);
        pr.finish();
      }
      nr.finish();
      s.rows.push_back(row);
    }
    core::ObjectReader cl = r.child("claims");
    core::ObjectReader g = cl.child("gap");
    g.required("min_gap_points", s.min_gap);
    g.required("min_generalization_gap_points", s.min_generalization_gap);
    g.ignore_notes();
    g.finish();
    core::ObjectReader cg = cl.child("closed");
    cg.required("tolerance_points", s.closed_tol);
    cg.ignore_notes();
    cg.finish();
    core::ObjectReader co = cl.child("ordering");
    co.required("tolerance_points", s.ordering_tol);
    co.ignore_notes();
    co.finish();
    cl.finish();
    r.finish();
    sim::require(!s.seeds.empty(), "seeds", "[]", "need at least one seed " + in);
    sim::require(std::isfinite(s.min_gap), "claims.gap.min_gap_points", s.min_gap, "must be finite " + in);
    sim::require(s.closed_tol >= 0 && std::isfinite(s.closed_tol), "claims.closed.tolerance_points", s.closed_tol, "must be >= 0 " + in);
    sim::require(s.ordering_tol >= 0 && std::isfinite(s.ordering_tol), "claims.ordering.tolerance_points", s.ordering_tol, "must be >= 0 " + in);
    sim::require(std::isfinite(s.min_generalization_gap), "claims.gap.min_generalization_gap_points", s.min_generalization_gap, "must be finite " + in);
    sim::require(s.ra_batch >= 0 && s.ra_batch != 1, "ra_batch", s.ra_batch, "must be >= 2 (0 = large_batch) " + in);
    sim::require(s.alternative_lr_reference >= 0 && s.alternative_lr_reference != 1, "alternative_lr_reference", s.alternative_lr_reference,
                 "must be >= 2 (0 = none) " + in);
    for (auto b : s.extra_adapted_batches) sim::require(b >= 2, "extra_adapted_batches", b, "every batch must be >= 2 " + in);
    return s;
  }

  // The columns: SB, LB, +LR, +GBN, +RA (indices 0-4, cumulative as in the paper), then the +LR of
  // the other lr convention and the extra adapted batches.
  static std::vector<Column> columns(const TrainTableConfig& c) {
    std::vector<Column> cols = {{"SB", "SB", false, false, false, false},
                                {"LB", "LB", true, false, false, false},
                                {"LR", "+LR", true, true, false, false},
                                {"GBN", "+GBN", true, true, true, false},
                                {"RA", c.ra_batch > 0 ? "+RA, B = " + std::to_string(c.ra_batch) : "+RA", true, true, true, true, c.ra_batch}};
    if (c.alternative_lr_reference > 0)
      cols.push_back({"LR" + std::to_string(c.alternative_lr_reference), "+LR (lr of B = " + std::to_string(c.alternative_lr_reference) + ")", true,
                      true, false, false, 0, c.alternative_lr_reference});
    for (auto b : c.extra_adapted_batches)
      cols.push_back({"RA_B" + std::to_string(b), "+RA, B = " + std::to_string(b), true, true, true, true, b});
    return cols;
  }

  /// Every row x column x seed, each configuration validated; rows that cannot run here (no data)
  /// get their reason in `row_skip`.
  std::vector<Job> plan(const Context& x, std::vector<std::string>* row_skip) const {
    const std::vector<Column> cols = columns(*this);
    std::vector<Job> jobs;
    row_skip->assign(rows.size(), "");
    for (std::size_t r = 0; r < rows.size(); ++r) {
      train::TrainConfig base;
      try {
        base = rows[r].base.config(x);
      } catch (const Skipped& e) {
        (*row_skip)[r] = e.what();
        continue;
      }
      for (std::size_t ci = 0; ci < cols.size(); ++ci)
        for (auto seed : seeds) {
          train::TrainConfig t = base;
          const Column& col = cols[ci];
          t.batch_size = col.large ? (col.batch > 0 ? col.batch : rows[r].large_batch) : rows[r].base.small_batch;
          t.norm = col.gbn ? "gbn" : "bn";
          t.lr_scaling = col.sqrt_lr ? "sqrt" : "none";
          t.regime_adaptation = col.adapt;
          if (col.lr_reference > 0) t.lr_reference_batch = col.lr_reference;
          t.seed = seed;
          t.out_dir = (x.dir / "runs" / (t.model + "_" + col.tag + "_s" + std::to_string(seed))).string();
          t.validate();
          jobs.push_back({t, r, ci, t.model + " " + col.title + " (B = " + std::to_string(t.batch_size) + ", seed " + std::to_string(seed) + ")"});
        }
    }
    return jobs;
  }
};

std::vector<Column> columns(const TrainTableConfig& c) { return TrainTableConfig::columns(c); }

json run(const Context& x) {
  const TrainTableConfig c = TrainTableConfig::parse(x.config, x.file);
  const auto& seeds = c.seeds;
  const auto& rows = c.rows;
  const double min_gap = c.min_gap;
  const double closed_tol = c.closed_tol;
  const std::vector<Column> cols = columns(c);

  json out;
  out["verdicts"] = json::array();
  out["rows"] = json::array();
  out["skipped"] = json::array();
  std::ostringstream md, csv;
  csv << "network,dataset,column,batch,seed,test_accuracy,train_accuracy,train_loss,last_epoch_loss,phase1_end_loss,clipped_share,iterations,epochs,seconds\n";
  md << "### " << x.name << ": Table 1 (test accuracy, %, mean over " << seeds.size() << " seed" << (seeds.size() > 1 ? "s" : "")
     << ")\n\n| network | data | ";
  for (const auto& col : cols) md << col.title << " | ";
  md << "\n|---|---|";
  for (std::size_t i = 0; i < cols.size(); ++i) md << "---|";
  md << "\n";

  std::vector<std::string> row_skip;
  const std::vector<Job> jobs = c.plan(x, &row_skip);
  for (std::size_t r = 0; r < rows.size(); ++r)
    if (!row_skip[r].empty()) std::cerr << "[" << x.name << "] skipped " << rows[r].base.model << ": " << row_skip[r] << '\n';
  double planned = 0;
  for (const auto& j : jobs) planned += planned_work(j.cfg);
  Eta eta(x.name, planned);
  // acc[row][col] over seeds; error curves per row and column (mean over seeds, by epoch index).
  std::vector<std::vector<std::vector<double>>> acc(rows.size(), std::vector<std::vector<double>>(cols.size()));
  // What explains a column: per row, column and measure, the values over seeds.
  std::vector<std::vector<std::map<std::string, std::vector<double>>>> why(rows.size(), std::vector<std::map<std::string, std::vector<double>>>(cols.size()));
  std::map<std::pair<std::size_t, std::size_t>, std::vector<std::map<std::string, std::vector<double>>>> curves;
  {
    std::vector<train::TrainConfig> cfgs;
    for (const auto& j : jobs) cfgs.push_back(j.cfg);
    run_in_workers(cfgs, x.hash, x.jobs, x.name);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    eta.begin(i, jobs.size(), j.label, run_finished(j.cfg));
    bool reused = false;
    const auto t0 = std::chrono::steady_clock::now();
    const json s = run_once(j.cfg, x.hash, &reused);
    eta.end(planned_work(j.cfg), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), reused);
    const double a = 100 * s["test_accuracy"].get<double>();
    acc[j.row][j.col].push_back(a);
    const auto metrics = csv_columns(fs::path(j.cfg.out_dir) / train::run_log::kMetricsFile);
    curves[{j.row, j.col}].push_back(metrics);
    // The loss at the end of the first lr phase: the last epoch trained at the first epoch's lr.
    const auto& lrs = metrics.at(train::run_log::kLr);
    const auto& tl = metrics.at(train::run_log::kTrainLoss);
    double phase1 = tl.front();
    for (std::size_t k = 0; k < lrs.size() && std::abs(lrs[k] - lrs.front()) <= 1e-12 * lrs.front(); ++k) phase1 = tl[k];
    const auto dist = csv_columns(fs::path(j.cfg.out_dir) / train::run_log::kDistanceFile);
    const double iters = s["iterations"].get<double>();
    const double clipped = iters > 0 ? dist.at(train::run_log::kClipped).back() / iters : 0.0;
    auto& w = why[j.row][j.col];
    w["train_accuracy"].push_back(100 * s["train_accuracy"].get<double>());
    w["train_loss"].push_back(s["train_loss"].get<double>());
    w["last_epoch_loss"].push_back(s["final_train_loss"].get<double>());
    w["phase1_end_loss"].push_back(phase1);
    w["clipped_share"].push_back(clipped);
    w["updates"].push_back(iters);
    csv << j.cfg.model << ',' << j.cfg.dataset << ',' << cols[j.col].tag << ',' << j.cfg.batch_size << ',' << j.cfg.seed << ',' << a << ','
        << w["train_accuracy"].back() << ',' << w["train_loss"].back() << ',' << w["last_epoch_loss"].back() << ',' << phase1 << ',' << clipped << ','
        << s["iterations"] << ',' << s["epochs"] << ',' << s["seconds"] << '\n';
  }
  core::write_file_atomic((x.dir / "table1.csv").string(), csv.str());

  // Figure 3: test error against iterations, mean over seeds.
  for (const auto& [key, runs] : curves) {
    const std::string model = rows[key.first].base.model;
    std::ostringstream e;
    e << std::setprecision(8) << "iteration,epoch,test_error\n";
    std::size_t n = runs.front().at(train::run_log::kIteration).size();
    for (const auto& r : runs) n = std::min(n, r.at(train::run_log::kIteration).size());
    for (std::size_t k = 0; k < n; ++k) {
      double err = 0;
      for (const auto& r : runs) err += 100 * (1 - r.at(train::run_log::kTestAccuracy)[k]);
      e << runs.front().at(train::run_log::kIteration)[k] << ',' << runs.front().at(train::run_log::kEpoch)[k] << ',' << err / static_cast<double>(runs.size()) << '\n';
    }
    core::write_file_atomic((x.dir / ("error_" + model + "_" + cols[key.second].tag + ".csv")).string(), e.str());
  }

  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::string model = rows[r].base.model, data = rows[r].base.dataset;
    if (!row_skip[r].empty()) {
      md << "| " << model << " | " << data << " | skipped: " << row_skip[r] << " |\n";
      out["skipped"].push_back({{"network", model}, {"reason", row_skip[r]}});
      continue;
    }
    json row = {{"network", model}, {"dataset", data}};
    md << "| " << model << " | " << data << " | ";
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      const auto& v = acc[r][ci];
      const double m = mean(v);
      row[cols[ci].tag] = {{"mean", m}, {"seeds", v}};
      for (const auto& [k, vals] : why[r][ci]) row[cols[ci].tag][k] = {{"mean", mean(vals)}, {"seeds", vals}};
      md << fmt(m, 4);
      if (v.size() > 1) md << " [" << fmt(*std::min_element(v.begin(), v.end()), 4) << ", " << fmt(*std::max_element(v.begin(), v.end()), 4) << "]";
      md << " | ";
    }
    md << "\n";
    if (!rows[r].paper_data.empty()) {
      md << "| " << model << " (paper: " << rows[r].paper_data << ") | | ";
      for (double v : rows[r].paper_accuracy) md << v << " | ";
      md << "\n";
    }
    out["rows"].push_back(row);
    // Beside the test accuracy: what each column reached on the training set and how it got there.
    md << "\nWhat each column of " << model << " reached and how (mean over seeds): accuracy and loss on the whole training set after the last "
       << "update (batch norm on running statistics), the mean loss of the last epoch and of the last epoch at the first lr, the share of "
       << "updates whose gradient was clipped (norm > " << fmt(rows[r].base.clip_norm, 3) << "), and the number of updates.\n\n"
       << "| column | test acc. (%) | train acc. (%) | train loss | last-epoch loss | loss at end of phase 1 | clipped | updates |\n"
       << "|---|---|---|---|---|---|---|---|\n";
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      auto& w = why[r][ci];
      if (w.empty()) continue;
      md << "| " << cols[ci].title << " | " << fmt(mean(acc[r][ci]), 4) << " | " << fmt(mean(w["train_accuracy"]), 4) << " | "
         << fmt(mean(w["train_loss"]), 3) << " | " << fmt(mean(w["last_epoch_loss"]), 3) << " | " << fmt(mean(w["phase1_end_loss"]), 3) << " | "
         << fmt(100 * mean(w["clipped_share"]), 3) << "% | " << fmt(mean(w["updates"]), 5) << " |\n";
    }
    // Where +LR, +GBN or the other convention's +LR falls below LB, say what differs (+RA is compared with SB).
    std::vector<std::size_t> below_lb{2, 3};
    if (c.alternative_lr_reference > 0) below_lb.push_back(5);
    for (std::size_t ci : below_lb) {
      if (acc[r][ci].empty() || acc[r][1].empty() || mean(acc[r][ci]) >= mean(acc[r][1])) continue;
      auto& w = why[r][ci];
      auto& lb = why[r][1];
      md << "\n" << cols[ci].title << " falls below LB by " << fmt(mean(acc[r][1]) - mean(acc[r][ci]), 3) << " points. Measured beside it: "
         << fmt(100 * mean(w["clipped_share"]), 3) << "% of its updates clipped (LB " << fmt(100 * mean(lb["clipped_share"]), 3)
         << "%), training loss at the end of phase 1 " << fmt(mean(w["phase1_end_loss"]), 3)
         << " (LB " << fmt(mean(lb["phase1_end_loss"]), 3) << "), training accuracy " << fmt(mean(w["train_accuracy"]), 4) << "% (LB "
         << fmt(mean(lb["train_accuracy"]), 4) << "%), " << fmt(mean(w["updates"]), 4) << " updates (as LB).\n";
    }
    Verdict g = gap_verdict(x.name, acc[r][0], acc[r][1], min_gap), cl = closed_gap_verdict(x.name, acc[r][0], acc[r][4], closed_tol);
    Verdict lr = not_worse_verdict(x.name, "+LR >= LB (lr x sqrt(LB/SB) helps)", acc[r][2], acc[r][1], c.ordering_tol);
    Verdict gbn = not_worse_verdict(x.name, "+GBN >= +LR (ghost batch norm helps)", acc[r][3], acc[r][2], c.ordering_tol);
    std::vector<Verdict> vs{g, cl, lr, gbn};
    if (c.alternative_lr_reference > 0)
      vs.push_back(not_worse_verdict(x.name, "+LR with the lr of B = " + std::to_string(c.alternative_lr_reference) + " >= LB", acc[r][5], acc[r][1],
                                     c.ordering_tol));
    // The same comparisons on the train-test gap (train accuracy - test accuracy): a test deficit with
    // an equal or smaller train-test gap is underfitting, not worse generalization.
    std::vector<std::vector<double>> gg(cols.size());
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      const auto& tr = why[r][ci]["train_accuracy"];
      for (std::size_t k = 0; k < tr.size() && k < acc[r][ci].size(); ++k) gg[ci].push_back(tr[k] - acc[r][ci][k]);
    }
    vs.push_back(difference_verdict(x.name, "the large batch generalizes worse, on the train-test gap (LB vs SB)", "(train - test)_LB > (train - test)_SB",
                                    gg[1], gg[0], "(train - test)_LB - (train - test)_SB", c.min_generalization_gap, true));
    vs.push_back(difference_verdict(x.name, "+LR +GBN +RA closes the train-test gap", "(train - test)_RA <= (train - test)_SB", gg[4], gg[0],
                                    "(train - test)_RA - (train - test)_SB", closed_tol, false));
    vs.push_back(difference_verdict(x.name, "+LR's train-test gap is no larger than LB's", "(train - test)_LR <= (train - test)_LB", gg[2], gg[1],
                                    "(train - test)_LR - (train - test)_LB", c.ordering_tol, false));
    vs.push_back(difference_verdict(x.name, "+GBN's train-test gap is no larger than +LR's", "(train - test)_GBN <= (train - test)_LR", gg[3], gg[2],
                                    "(train - test)_GBN - (train - test)_LR", c.ordering_tol, false));
    if (c.alternative_lr_reference > 0) {
      const std::string gap = "(train - test)_" + cols[5].tag;
      vs.push_back(difference_verdict(x.name, cols[5].title + "'s train-test gap is no larger than LB's", gap + " <= (train - test)_LB", gg[5], gg[1],
                                      gap + " - (train - test)_LB", c.ordering_tol, false));
    }
    for (Verdict& v : vs) {
      v.claim += ", " + model + " (" + std::to_string(seeds.size()) + " seeds)";
      out["verdicts"].push_back(v);
    }
    md << "\nTrain-test gap (train accuracy - test accuracy, points, mean over seeds): ";
    for (std::size_t ci = 0; ci < cols.size(); ++ci) md << (ci ? "; " : "") << cols[ci].title << " " << fmt(mean(gg[ci]), 3);
    md << ". A column whose test accuracy is lower while its train-test gap is not larger underfits; it does not generalize worse.\n";
  }
  if (!jobs.empty()) {
  const train::TrainConfig& b0 = jobs.front().cfg;
  md << "\nColumns are cumulative, as in the paper: +LR = LB with lr x sqrt(LB/" << b0.lr_reference() << ") (the regime's lr belongs to B = "
     << b0.lr_reference() << ")";
  if (c.alternative_lr_reference > 0)
    md << " (and the other convention of the authors' scripts: lr x sqrt(LB/" << c.alternative_lr_reference << "), column +LR (lr of B = "
       << c.alternative_lr_reference << "))";
  md << "; +GBN = that with ghost batches of " << b0.ghost_batch_size << "; +RA = that with regime adaptation (x B/" << b0.adaptation_reference()
     << " the epochs, every drop at the SB iteration count)" << (c.ra_batch > 0 ? " at B = " + std::to_string(c.ra_batch) + " instead of LB (32x the epochs of LB do not fit the time budget)" : std::string())
     << ". The regime is the authors' (" << b0.model << ": " << regime_text(b0) << "), its epoch keys scaled by " << c.top.regime_scale
     << "; momentum and weight decay as the authors'; gradients clipped at norm " << fmt(b0.clip_norm, 3) << " after the ghost gradients are averaged.\n";
  }
  out["markdown"] = md.str();
  return out;
}

}  // namespace

ExperimentKind train_table_kind() {
  return {"train_table",
          [](const Context& x) {
            std::vector<std::string> skip;
            (void)TrainTableConfig::parse(x.config, x.file).plan(x, &skip);
          },
          run};
}

}  // namespace gengap::repro
