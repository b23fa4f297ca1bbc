/// @file philox.hpp
/// @brief The Philox4x32-10 streams of gengap::core (core/philox.hpp), named in gengap::sim where
/// the simulations use them.
#pragma once

#include "gengap/core/philox.hpp"

namespace gengap::sim {

using core::Block4x32;      ///< four 32-bit words (core::Block4x32)
using core::Key2x32;        ///< a Philox key (core::Key2x32)
using core::philox4x32_10;  ///< the block function (core::philox4x32_10)
using core::Stream;         ///< one named stream of a seed (core::Stream)
using core::StreamPurpose;  ///< what a stream is for (core::StreamPurpose)
using core::to_normal2;     ///< two standard normals from a block (core::to_normal2)
using core::to_open01;      ///< uniform in (0, 1) from 32 bits (core::to_open01)

}  // namespace gengap::sim
