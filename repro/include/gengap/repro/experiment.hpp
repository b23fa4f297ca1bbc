/// @file experiment.hpp
/// @brief The reproduction's experiments: each one reads its resolved config (the experiment's
/// fields with the chosen profile's merged over them), writes its data (CSV, JSON) into its folder,
/// and returns a result object with "verdicts" (rows of the verdict table) and "markdown" (tables
/// for the summary).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gengap/core/hash.hpp"
#include "gengap/sim/error.hpp"

namespace gengap::repro {

/// What an experiment gets from the pipeline.
struct Context {
  nlohmann::json config;            ///< the resolved config
  std::string file;                 ///< the config file, for messages
  std::string name;                 ///< the experiment's name (the file's stem)
  std::filesystem::path dir;        ///< its output folder
  std::string hash;                 ///< hash of config + program: finished runs with another hash are redone
  std::string data_root;            ///< --data-root: where CIFAR folders are looked for ("" = none given)
  int jobs = 1;                     ///< --jobs: training runs at once, each in a worker process (1 = one after the other, in this process)
};

/// Thrown by an experiment (or a row of one) that cannot run here, e.g. for want of a data set;
/// the message says why and what to do. The pipeline lists it as skipped, not failed.
struct Skipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// FNV-1a, 64 bit, continuing from `h` (core::fnv1a64).
inline std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ull) { return core::fnv1a64(s, h); }

/// A file's whole content. @throws InvalidArgument ("file = <path>: cannot open")
std::string read_text(const std::filesystem::path& p);

/// A 64-bit value as 16 hexadecimal digits.
std::string hex64(std::uint64_t v);

/// An exclusive lock on an output folder for the lifetime of the object (flock on
/// `<dir>/.gengap-repro.lock`, which holds the owner's process id). A second pipeline on the same
/// folder is refused with InvalidArgument naming the process that holds it; the lock goes with the
/// process, so a killed pipeline leaves none behind.
class FolderLock {
 public:
  /// Takes the lock on `dir` (which must exist). @throws InvalidArgument when another process holds it
  explicit FolderLock(const std::filesystem::path& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

/// An experiment kind: a typed config parsed and validated in one place (check, before any work of
/// the whole repro run starts), and the run that uses it.
struct ExperimentKind {
  std::string name;  ///< the config's "kind"
  /// Parses and validates the resolved config (every field, unknown keys refused, sizes and memory
  /// checked, training configs validated); throws sim::InvalidArgument naming the field and file.
  std::function<void(const Context& x)> check;
  /// Runs the experiment; returns its result object ("verdicts", "markdown", data).
  std::function<nlohmann::json(const Context& x)> run;
};

/// Every experiment kind: sinai, alpha_sweep, sgd_batch, train_table, weight_distance.
const std::vector<ExperimentKind>& experiment_kinds();

/// The kind named `name` (from `file`); throws InvalidArgument listing the known kinds.
const ExperimentKind& experiment_kind(const std::string& name, const std::string& file);

/// Whether this build has the training experiments (GENGAP_BUILD_TRAIN).
bool training_available();

/// The training runs at once that `--jobs 0` (auto) means: one per logical CPU, on a CPU; 1 when a
/// GPU trains (the runs would share it) or without LibTorch.
int auto_jobs();

/// The body of a worker process (gengap-repro --train-worker DIR): trains the run whose config the
/// pipeline wrote to DIR/worker_config.json. Returns the exit code (0: finished; its files in DIR).
int train_worker(const std::filesystem::path& dir);

/// A walk on an fBm landscape of exponent `alpha`, set up by the object `walk` of a config
/// (sigma, environments, walkers, temperature, dynamics, seed, t_max, per_decade, fit_tmin): the
/// distance sqrt(<x^2>) fitted like the weight distances. With `window_ratio` > 1 (the training
/// window's T/t0) the walk runs to fit_tmin x window_ratio, so its fit spans as many decades of its own
/// time as the training window (one walk step = one update). Returns the fit and writes walk.csv into `dir`.
nlohmann::json run_walk_check(const nlohmann::json& walk, double alpha, const std::string& file,
                              const std::filesystem::path& dir, double window_ratio = 0);

}  // namespace gengap::repro
