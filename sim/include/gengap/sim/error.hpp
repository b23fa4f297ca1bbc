/// @file error.hpp
/// @brief Errors raised by gengap::sim for invalid input: the error types of gengap::core
/// (core/error.hpp), named here for the library's users.
#pragma once

#include "gengap/core/error.hpp"

namespace gengap::sim {

using core::InputError;       ///< base of every bad-input error (exit code 2)
using core::InvalidArgument;  ///< `field = value: expected` (core::InvalidArgument)
using core::RuntimeError;     ///< a run that cannot continue (core::RuntimeError)
using core::require;
using core::to_text;

}  // namespace gengap::sim
