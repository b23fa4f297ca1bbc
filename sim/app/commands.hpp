// gengap-sim's subcommands: each lives in its own file (cmd_<name>.cpp) and is registered in the
// table of commands(). A command declares its options once (flag + config key), validates every
// input and output before any work starts, then runs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "gengap/core/io.hpp"
#include "gengap/sim.hpp"
#include "shard.hpp"

namespace gengap::sim::app {

/// How a subcommand computing in-process (for the Python module) reports and what it returns.
struct RunHooks {
  /// Fraction of the whole command done, on the calling thread; an exception it throws stops the
  /// work and is rethrown (the library runners' rule).
  std::function<void(double)> progress;
  /// Also return the per-sample arrays the CLI does not write (e.g. env_msd: row = environment).
  bool arrays = false;
  /// fit: the table to fit (the file named by `csv` is not read); required in-process.
  const core::CsvTable* table = nullptr;
};

/// What a shard computed: its raw results and the block of environments (samples) they cover.
struct ShardData {
  nlohmann::json data;
  std::uint32_t begin = 0, end = 0;
};

/// What a subcommand does once its options are parsed.
struct Action {
  std::function<void()> validate;  ///< checks every value, output path and memory estimate; throws InvalidArgument
  std::function<int()> run;        ///< does the work (after validate)
  /// The JSON document run() writes, computed without writing anything (after validate); empty for
  /// collapse (it reads result files).
  std::function<nlohmann::json(const RunHooks&)> compute;
  /// Commands that shard (walk, exact, valley, lattice): the raw results of the shard --shard names
  /// (after validate), the `data` of its shard file, and the block [begin, end) it covers.
  std::function<ShardData(const RunHooks&)> shard;
  /// The result document from checked shards (check_shards()): bitwise compute()'s, the per-sample
  /// arrays of `hooks` included. Throws InvalidArgument for data that do not fit the run.
  std::function<nlohmann::json(const ShardSet&, const RunHooks&)> merge;
  /// merge() written as run() writes it (the JSON and CSV files the options name; stderr summary).
  std::function<int(const ShardSet&)> merge_run;
};

/// A subcommand: its name, one-line description, and the function that declares its options on
/// `opts` and returns its action (bound to the parsed values).
struct Command {
  const char* name;
  const char* description;
  std::function<Action(cli::Options& opts)> setup;
};

/// Every subcommand, in the order of `gengap-sim --help`.
const std::vector<Command>& commands();

/// Parses and validates a config object for subcommand `name` without running it (what
/// `gengap-sim NAME --config FILE` checks before any work). Throws InvalidArgument.
void check_config(const std::string& name, const nlohmann::json& config, const std::string& where);

/// The values of every config key of subcommand `name` once `config` is applied to the defaults,
/// validated as check_config() validates them (`where` names the source in messages, e.g.
/// "gengap.walk()"): what the Python module runs with. Throws InvalidArgument.
nlohmann::json resolve_config(const std::string& name, const nlohmann::json& config, const std::string& where);

/// Validates `config` for subcommand `name` (as resolve_config()) and computes its result document
/// in-process (Action::compute): the JSON the CLI writes, bitwise, plus the arrays of `hooks`.
/// Throws InvalidArgument for bad input or a command without compute.
nlohmann::json compute_command(const std::string& name, const nlohmann::json& config, const std::string& where,
                               const RunHooks& hooks);

/// Validates `config` for subcommand `name` (which must hold "shard": "I/N") and computes that
/// shard's file document in-process (what `gengap-sim NAME --shard I/N` writes). Throws InvalidArgument.
nlohmann::json compute_shard(const std::string& name, const nlohmann::json& config, const std::string& where, const RunHooks& hooks);

/// Checks shard documents (check_shards()) and merges them in-process: the document the unsharded
/// run computes (compute_command()), bitwise. Throws InvalidArgument with one line naming the shard.
nlohmann::json merge_shards(const std::vector<std::pair<std::string, nlohmann::json>>& docs, const RunHooks& hooks);

/// The options that identify a run (Options::values() without is_run_setting() keys).
nlohmann::json run_identity(const cli::Options& opts);

/// Checks, for a command's validate(), what --shard asks: a count no larger than `items` and no CSV
/// output (a shard writes only its shard file; merge writes the CSV).
void check_shard_request(const ShardSpec& spec, std::uint64_t items, const std::string& items_name, const std::string& csv_out);

/// Checks that shard k of `set` covers the block shard_range() gives for `items` (the run's count).
void require_shard_ranges(const ShardSet& set, std::uint32_t items, const std::string& items_name);

/// The config keys of subcommand `name`, each {"key", "default", "help"} (Options::describe()).
nlohmann::json describe_config(const std::string& name);

/// Runs gengap-sim with argv; returns the exit code (0, 1 failed, 2 bad input).
int main_with(int argc, char** argv);

// ---- shared pieces of the commands ----

/// The potential options shared by walk, valley and exact.
struct PotentialParams {
  std::string potential = "sinai-gaussian";
  double alpha = 1.0;
  double sigma = 1.0;
};
/// Declares --potential, --alpha, --sigma.
void add_potential_options(cli::Options& opts, PotentialParams& p);
/// The potential the options name (sim::make_potential).
std::unique_ptr<Potential> potential_of(const PotentialParams& p);

/// A matrix as a JSON array of its rows (an empty array for 0 rows).
nlohmann::json matrix_rows(const Eigen::MatrixXd& m);

/// Writes `text` to `path` atomically, or to stdout when `path` is empty.
void emit(const std::string& path, const std::string& text);

/// One run's curve as read by `collapse`: the parameters and the series of a gengap-sim walk or
/// exact result.
struct CollapseInput {
  double temperature = 0;    ///< parameters.temperature
  double sigma = 0;          ///< parameters.potential.sigma
  std::vector<double> times; ///< times (> 0, increasing)
  std::vector<double> msd;   ///< msd, one per time (finite, >= 0)
};
/// Parses and checks a walk/exact JSON result (`text` read from `file`). Throws InvalidArgument
/// naming the file and field (a missing field, a wrong type, msd shorter than times, ...).
CollapseInput parse_collapse_input(const std::string& text, const std::string& file);

/// The rows and columns `gengap-sim fit` fits: the time column, the rows with t > 1 inside
/// [tmin, tmax] (tmax = 0: no limit), and one value column (or, with `samples`, every other column).
struct FitInput {
  std::size_t t_index = 0;  ///< the time column
  std::vector<double> t;    ///< the selected times
  Eigen::MatrixXd values;   ///< row = value column (sample), column = selected time
};
/// Selects the fit's input from a parsed CSV; throws InvalidArgument (a missing column, fewer than 4 rows).
FitInput select_fit_input(const core::CsvTable& table, const std::string& t_column, const std::string& y_column, bool samples,
                          double tmin, double tmax);

/// A walk run rebuilt from its checked shards (for the repro's configs that name shard files).
struct MergedWalk {
  EnsembleResult result;     ///< bitwise the unsharded run's
  EnsembleConfig config;     ///< its ensemble settings
  nlohmann::json potential;  ///< Potential::to_json() of its potential
  std::string dynamics;      ///< its dynamics' name
};
/// The walk of shards made by gengap-sim walk --shard. Throws InvalidArgument (another command,
/// data that do not fit the run).
MergedWalk merge_walk(const ShardSet& set);

/// An exact run rebuilt from its checked shards.
struct MergedExact {
  ExactEnsembleResult result;   ///< bitwise the unsharded run's (Kesten's control variate not computed)
  ExactEnsembleConfig config;   ///< its ensemble settings
  nlohmann::json potential;     ///< Potential::to_json() of its potential
  std::string dynamics;         ///< its dynamics' name
};
/// The exact ensemble of shards made by gengap-sim exact --shard. Throws InvalidArgument.
MergedExact merge_exact(const ShardSet& set);

Command walk_command();
Command valley_command();
Command fit_command();
Command sgd_command();
Command exact_command();
Command lattice_command();
Command collapse_command();
Command power_command();
Command merge_command();

}  // namespace gengap::sim::app
