// Internal: what the training experiments share — the training fields of a config, one run kept or
// resumed by its hash, time-left estimates, run-log columns.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common.hpp"
#include "gengap/train/trainer.hpp"

namespace gengap::repro::detail {

/// The training fields a config (or one row of a table) may set; every one optional but model and
/// dataset, which must be set by the time a run is planned.
struct TrainBase {
  std::string model, dataset, data_dir;
  std::int64_t small_batch = 0;         // B_s: the regime adaptation's reference, and the ghost and lr reference unless set
  std::int64_t ghost_batch = 0;         // the GBN ghost size (0 = small_batch)
  std::int64_t lr_reference_batch = 0;  // the batch the regime's lr belongs to (0 = small_batch); the authors' F1: 128
  double regime_scale = 1;
  std::int64_t train_subset = 0, test_subset = 0, synthetic_size = 2048;
  double synthetic_noise = 1.0;
  std::string device = "auto";
  double clip_norm = 5.0;
  bool augment = true;
  std::int64_t probe_size = 2048;
  /// Reads whichever of the fields `r` holds (others keep their values).
  void read(core::ObjectReader& r);
  /// The run configuration shared by an experiment's runs. CIFAR without --data-root (or with a
  /// folder that lacks the files) throws Skipped with the files it needs.
  train::TrainConfig config(const Context& x) const;
};

/// The authors' regime of a config's model as text, unscaled: "0:0.1, 10:0.01, ... (epochs); momentum 0.9,
/// weight decay 0.0001; 40 epochs".
std::string regime_text(const train::TrainConfig& c);

/// One training run, kept when finished with the same hash, resumed when interrupted.
nlohmann::json run_once(train::TrainConfig c, const std::string& experiment_hash, bool* reused);

/// Runs those of `cfgs` not yet finished (with this experiment's hash) in `jobs` worker processes at
/// once (gengap-repro --train-worker), each with max(1, cores / jobs) threads; run_once then finds
/// them finished. Does nothing when jobs <= 1 or when the runs train on a GPU. A worker that fails
/// leaves its run to run_once (resumed from its last checkpoint, in this process, where its error
/// stops the pipeline with its message). The thread count decides the order of LibTorch's parallel
/// sums, so a run's floats differ in the last bits between thread counts and SGD amplifies that into
/// another trajectory, as another seed would: with one worker per core (the default) every run has
/// one thread, and its numbers no longer depend on the machine's core count.
void run_in_workers(std::vector<train::TrainConfig> cfgs, const std::string& experiment_hash, int jobs, const std::string& name);

/// The columns of a CSV by header name.
std::map<std::string, std::vector<double>> csv_columns(const std::filesystem::path& p);

/// Training samples per epoch as the trainer will see them, for time estimates only.
double planned_samples(const train::TrainConfig& t);
/// The samples a run will process (planned updates x batch size, from train::plan_regime()), for
/// time estimates.
double planned_work(const train::TrainConfig& t);

/// Time left in an experiment, from the planned work (samples) of its runs and the rate so far.
class Eta {
 public:
  Eta(std::string name, double planned) : name_(std::move(name)), planned_(planned) {}
  /// Announces run i of n, unless it is finished already (trained by the workers, or by an earlier
  /// invocation): its results are only read back, and a line would follow the workers' "n/n finished".
  void begin(std::size_t i, std::size_t n, const std::string& label, bool finished = false) const;
  void end(double work, double seconds, bool reused);

 private:
  std::string name_;
  double planned_ = 0, done_ = 0, seconds_ = 0;
};

double mean(const std::vector<double>& v);

/// Whether the run of `c` has finished (its folder holds the summary of this very config).
bool run_finished(const train::TrainConfig& c);

}  // namespace gengap::repro::detail
