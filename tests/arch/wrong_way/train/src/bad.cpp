// A negative control for check_layers.cmake (never compiled): train including sim's umbrella header.
#include <torch/types.h>
#include "gengap/sim.hpp"
