// The parts of gengap._sim, each binding one area of gengap::sim (see sim_module.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace gengap::python {

/// The gengap-sim commands in-process (sim_runs.cpp).
void bind_runs(pybind11::module_& m);
/// Fits, claims, overlap, theory, landscapes, fields (sim_math.cpp).
void bind_math(pybind11::module_& m);

}  // namespace gengap::python
