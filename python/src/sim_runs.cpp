// gengap._sim: the gengap-sim commands in-process (walk, exact, valley, lattice, sgd, power): validated by the
// CLI's own checks, computed by the CLI's own code, returned as the CLI's JSON document with numpy arrays.
#include <set>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "commands.hpp"
#include "convert.hpp"
#include "gengap/core/error.hpp"
#include "gengap/core/io.hpp"
#include "sim_module.hpp"

namespace gengap::python {

namespace {

const std::set<std::string>& in_process_commands() {
  static const std::set<std::string> names{"walk", "exact", "valley", "lattice", "sgd", "power"};
  return names;
}

/// The CLI's output settings: results are returned, never written.
const std::set<std::string>& output_keys() {
  static const std::set<std::string> keys{"json", "csv", "quiet"};
  return keys;
}

void require_command(const std::string& name) {
  if (!in_process_commands().count(name))
    throw core::InvalidArgument("command", name, "expected walk, exact, valley, lattice, sgd or power");
}

/// The options of gengap.<name>() as the command's config: output settings refused.
nlohmann::json config_of(const std::string& name, const py::dict& options, const std::string& where) {
  require_command(name);
  nlohmann::json config = to_json(options, "");
  for (const auto& [k, v] : config.items())
    if (output_keys().count(k))
      throw core::InvalidArgument(k, core::json_excerpt(v), "not an argument of " + where + ": results are returned, not written");
  return config;
}

py::object run_command(const std::string& name, const py::dict& options, const py::object& progress) {
  const std::string where = "gengap." + name + "()";
  const nlohmann::json config = config_of(name, options, where);
  ProgressHook hook(progress);
  sim::app::RunHooks hooks;
  hooks.progress = hook.hook();
  hooks.arrays = true;
  nlohmann::json out;
  {
    py::gil_scoped_release nogil;  // the work runs on the library's threads; hook() takes the GIL back to report
    out = sim::app::compute_command(name, config, where, hooks);
  }
  return from_json(out);
}

/// The shard document of gengap-sim `name` --shard (options["shard"] = "I/N"), as JSON text (the
/// Python side parses it with the json module, so that it goes back to merge() unchanged).
std::string run_shard(const std::string& name, const py::dict& options, const py::object& progress) {
  const std::string where = "gengap." + name + "()";
  const nlohmann::json config = config_of(name, options, where);
  ProgressHook hook(progress);
  sim::app::RunHooks hooks;
  hooks.progress = hook.hook();
  std::string out;
  {
    py::gil_scoped_release nogil;
    out = sim::app::compute_shard(name, config, where, hooks).dump();
  }
  return out;
}

/// Merges shard documents given as (name, JSON text) pairs: the unsharded run's document with its
/// per-sample arrays, as run_command() returns it.
py::object merge(const std::vector<std::pair<std::string, std::string>>& shards) {
  nlohmann::json out;
  {
    py::gil_scoped_release nogil;
    std::vector<std::pair<std::string, nlohmann::json>> docs;
    for (const auto& [name, text] : shards) docs.emplace_back(name, sim::app::parse_shard_text(text, name));
    sim::app::RunHooks hooks;
    hooks.arrays = true;
    out = sim::app::merge_shards(docs, hooks);
  }
  return from_json(out);
}

py::object describe(const std::string& name) {
  if (name != "fit") require_command(name);
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : sim::app::describe_config(name))
    if (!output_keys().count(k["key"].get<std::string>())) keys.push_back(k);
  return from_json(keys);
}

/// A CSV file of numbers (gengap's strict reader): {column name: numpy array}, in the file's column order.
py::dict read_csv(const std::string& path) {
  core::CsvTable t;
  {
    py::gil_scoped_release nogil;
    t = core::read_csv(path);
  }
  py::dict d;
  for (std::size_t i = 0; i < t.names.size(); ++i) d[py::str(t.names[i])] = py::array_t<double>(static_cast<py::ssize_t>(t.cols[i].size()), t.cols[i].data());
  return d;
}

}  // namespace

void bind_runs(py::module_& m) {
  m.def("run_command", &run_command, py::arg("name"), py::arg("options"), py::arg("progress") = py::none(),
        "Runs gengap-sim command `name` (walk, exact, valley, lattice, sgd) with `options` (the CLI's config keys) "
        "in-process, without the GIL; returns the CLI's JSON document as a dict of numpy arrays, plus the per-sample "
        "arrays (env_msd, env_distance). Raises ValueError with the CLI's message for a bad option.");
  m.def("run_shard", &run_shard, py::arg("name"), py::arg("options"), py::arg("progress") = py::none(),
        "Computes shard options['shard'] ('I/N') of gengap-sim command `name` in-process; returns the shard file's JSON text.");
  m.def("merge", &merge, py::arg("shards"),
        "Merges shards given as (name, JSON text) pairs into the unsharded run's document (as run_command() returns it). "
        "ValueError with one line naming the shard for a missing, duplicated, foreign or damaged shard.");
  m.def("read_csv", &read_csv, py::arg("path"),
        "A CSV of finite numbers (optional header, '#' comments): {column: numpy array}. ValueError naming the line otherwise.");
  m.def("describe", &describe, py::arg("name"),
        "The options of command `name` (walk, exact, valley, lattice, sgd, fit): a list of {key, default, help} (the CLI's config "
        "keys and defaults; not its output settings json, csv, quiet).");
}

}  // namespace gengap::python
