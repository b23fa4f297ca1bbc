// A negative control for check_layers.cmake (never compiled): core including sim.
#include "gengap/core/io.hpp"
#include "gengap/sim/fit.hpp"
