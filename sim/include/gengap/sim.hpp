/// @file sim.hpp
/// @brief Umbrella header of gengap::sim: random walks on random potentials, fits and theory.
#pragma once

#include "gengap/sim/dynamics.hpp"
#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/factory.hpp"
#include "gengap/sim/fbm.hpp"
#include "gengap/sim/field.hpp"
#include "gengap/sim/first_passage.hpp"
#include "gengap/sim/fit.hpp"
#include "gengap/sim/flat.hpp"
#include "gengap/sim/heat_bath.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/landscape.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/overlap.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/sim/potential.hpp"
#include "gengap/sim/sgd.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/theory.hpp"
#include "gengap/sim/times.hpp"
