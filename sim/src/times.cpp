// Log-spaced integer recording times.
#include "gengap/sim/times.hpp"

#include <cmath>

#include "gengap/sim/error.hpp"

namespace gengap::sim {

std::vector<std::uint64_t> log_times(std::uint64_t t_max, int per_decade) {
  require(t_max >= 1, "t_max", t_max, "must be >= 1");
  require(per_decade >= 1 && per_decade <= 1000, "per_decade", per_decade, "must be in [1, 1000]");
  std::vector<std::uint64_t> out{1};
  const double decades = std::log10(static_cast<double>(t_max));
  const int n = static_cast<int>(std::ceil(decades * per_decade));
  for (int i = 1; i <= n; ++i) {
    const double tt = std::pow(10.0, static_cast<double>(i) / per_decade);
    // Compare in double first: near 2^64 llround would overflow.
    const std::uint64_t ti = tt >= static_cast<double>(t_max) ? t_max : static_cast<std::uint64_t>(std::round(tt));
    if (ti > out.back()) out.push_back(ti);
  }
  if (out.back() != t_max) out.push_back(t_max);
  return out;
}

void check_times(const std::vector<std::uint64_t>& times, const char* field) {
  require(!times.empty(), field, "[]", "must hold at least one time");
  require(times.front() >= 1, field, times.front(), "times must be >= 1");
  for (std::size_t i = 1; i < times.size(); ++i) {
    require(times[i] > times[i - 1], field, times[i], "times must be strictly increasing");
  }
}

}  // namespace gengap::sim
