// Memory estimates against the machine's memory.
#include "gengap/core/memory.hpp"

#include <sys/resource.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gengap/core/error.hpp"

namespace gengap::core {

double memory_budget_bytes() {
  if (const char* env = std::getenv("GENGAP_MEMORY_LIMIT"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    switch (end != nullptr ? *end : '\0') {
      case 'k': case 'K': v *= 1024.0; ++end; break;
      case 'm': case 'M': v *= 1024.0 * 1024; ++end; break;
      case 'g': case 'G': v *= 1024.0 * 1024 * 1024; ++end; break;
      case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; ++end; break;
      default: break;
    }
    if (end != nullptr && (*end == 'B' || *end == 'b')) ++end;
    if (!(v > 0) || !std::isfinite(v) || (end != nullptr && *end != '\0'))
      throw InvalidArgument("GENGAP_MEMORY_LIMIT", env, "expected a number of bytes, e.g. 8G");
    return v;
  }
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  double budget = (pages <= 0 || size <= 0) ? 16.0 * 1024 * 1024 * 1024  // unknown: assume a small machine
                                            : static_cast<double>(pages) * static_cast<double>(size);
  if (const double as = address_space_left_bytes(); as < budget) budget = as;
  return budget;
}

double address_space_left_bytes() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return HUGE_VAL;
  // The process's current virtual size: the first field of /proc/self/statm, in pages.
  double used = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long vm_pages = 0;
    if (std::fscanf(f, "%llu", &vm_pages) == 1) used = static_cast<double>(vm_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  const double left = static_cast<double>(lim.rlim_cur) - used;
  return left > 0 ? left : 0.0;
}

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes)) return "more than can be counted";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  char buf[64];
  if (bytes >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3g %s", bytes, units[u]);
  } else {
    std::snprintf(buf, sizeof buf, bytes < 10 && u > 0 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  }
  return buf;
}

void require_memory(const std::string& field, const std::string& value, double bytes, const std::string& what) {
  const double budget = memory_budget_bytes();
  if (std::isfinite(bytes) && bytes <= budget) return;
  const char* env = std::getenv("GENGAP_MEMORY_LIMIT");
  const std::string limit = (env != nullptr && *env != '\0')          ? " allowed by GENGAP_MEMORY_LIMIT"
                            : address_space_left_bytes() <= budget ? " this process may still map (its address-space limit, ulimit -v)"
                                                                   : " this machine has";
  throw InvalidArgument(field, value, "needs about " + format_bytes(bytes) + " of memory (" + what + "), more than the " +
                                          format_bytes(budget) + limit);
}

bool keep_freed_memory() noexcept {
#if defined(__GLIBC__)
  // M_MMAP_THRESHOLD's largest accepted value on 64-bit glibc is 32 MiB; setting it (or the trim
  // threshold) also stops glibc from adjusting the threshold on its own.
  const bool a = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
  const bool b = mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
  const bool c = mallopt(M_TOP_PAD, 64 * 1024 * 1024) == 1;
  return a && b && c;
#else
  return false;
#endif
}

}  // namespace gengap::core
