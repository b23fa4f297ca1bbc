/// @file times.hpp
/// @brief Log-spaced recording times.
#pragma once

#include <cstdint>
#include <vector>

namespace gengap::sim {

/// Distinct integer times 1 <= t <= t_max, about `per_decade` per factor of ten, log-spaced,
/// always including 1 and t_max. Example: log_times(1000, 3) = {1, 2, 5, 10, 22, 46, 100, 215, 464, 1000}.
/// @throws InvalidArgument when t_max < 1 or per_decade < 1
std::vector<std::uint64_t> log_times(std::uint64_t t_max, int per_decade);

/// Checks that `times` is non-empty, strictly increasing and starts at >= 1.
/// @throws InvalidArgument naming `field` otherwise
void check_times(const std::vector<std::uint64_t>& times, const char* field = "times");

}  // namespace gengap::sim
