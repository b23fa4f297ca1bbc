// gengap._train: the trainer from Python (needs LibTorch; the package imports it only for gengap.train()).
#include <cstdint>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

#include "convert.hpp"
#include "gengap/train/trainer.hpp"

namespace gengap::python {
namespace {

py::object default_config() {
  nlohmann::json j = train::TrainConfig{};
  return from_json(j);
}

/// Trains with `config` (gengap-train's config keys; defaults for the rest) without the GIL.
py::object run_train(const py::dict& config, const py::object& progress) {
  train::TrainConfig c;
  train::apply_json(to_json(config, ""), c, "gengap.train()");
  c.validate();
  ProgressHook hook(progress);
  train::TrainSummary s;
  {
    py::gil_scoped_release nogil;  // training runs on this thread and LibTorch's; hook() takes the GIL to report
    s = train::train(c, [&hook](std::int64_t it, std::int64_t total) {
      hook.report(total > 0 ? static_cast<double>(it) / static_cast<double>(total) : 1.0);
    });
  }
  nlohmann::json j = train::summary_json(s, c.batch_size);  // what summary.json holds
  j["out_dir"] = c.out_dir;
  return from_json(j);
}

}  // namespace
}  // namespace gengap::python

PYBIND11_MODULE(_train, m) {
  namespace py = pybind11;
  m.doc() = "gengap::train from Python (the package gengap wraps this module)";
  m.def("default_config", &gengap::python::default_config, "Every key of a training config with its default.");
  m.def("train", &gengap::python::run_train, py::arg("config"), py::arg("progress") = py::none(),
        "Runs the trainer on `config` (gengap-train's keys) without the GIL; returns the summary (also written to "
        "out_dir/summary.json). Ctrl-C or an exception in progress stops it after the current update, the files "
        "on disk as written at the last finished epoch.");
}
