// Shared pieces of the Python modules: Python objects <-> JSON (numeric lists become numpy arrays),
// and the progress hook that lets a long call run without the GIL and still stop on Ctrl-C.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

namespace gengap::python {

namespace py = pybind11;

/// A Python value as JSON: None, bool, int, float, str, lists, tuples, dicts with str keys, numpy
/// arrays and scalars. `field` names the value in errors (core::InvalidArgument, a ValueError in
/// Python). Non-finite floats are kept (the strict readers refuse them with the field's name).
nlohmann::json to_json(py::handle value, const std::string& field);

/// JSON as Python: objects become dicts, arrays of numbers numpy arrays (int64, uint64 or float64),
/// arrays of equally long numeric arrays 2-D numpy arrays (row = element), other arrays lists.
py::object from_json(const nlohmann::json& value);

/// Python's side of a long call. Made and destroyed with the GIL held; hook() may be called from the
/// C++ side without it (it takes the GIL itself): it raises Python's pending signals (Ctrl-C:
/// KeyboardInterrupt) and calls the user's callback, if any, with the fraction done (at most about
/// 5 times a second). Either exception stops the run (the library's rule) and reaches Python as raised.
class ProgressHook {
 public:
  /// @param callback None or a callable taking the fraction done in [0, 1]
  explicit ProgressHook(py::object callback);
  /// The function to hand to the library (captures this object by pointer: keep it alive).
  std::function<void(double)> hook();
  /// One report: signals, then the callback (every call with fraction 1, else at most every 0.2 s).
  void report(double fraction);

 private:
  py::object callback_;
  double last_ = -1;  // steady-clock seconds of the last callback
};

}  // namespace gengap::python
