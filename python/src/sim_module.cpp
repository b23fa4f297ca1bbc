// gengap._sim: gengap::sim for Python (no LibTorch). The user-facing API is the package `gengap`
// (python/gengap/__init__.py), which wraps these functions with keyword arguments and docstrings.
#include <pybind11/pybind11.h>

#include "sim_module.hpp"

PYBIND11_MODULE(_sim, m) {
  m.doc() = "gengap::sim from Python (the package gengap wraps this module)";
  gengap::python::bind_runs(m);
  gengap::python::bind_math(m);
}
