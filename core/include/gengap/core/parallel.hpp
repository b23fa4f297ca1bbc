/// @file parallel.hpp
/// @brief parallel_for: independent work items (environments, walkers) spread over threads, with
/// progress and the first error rethrown; results independent of the thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace gengap::core {

/// Calls work(i) once for every i in [0, n), on `threads` threads (0 = all hardware threads; never
/// more than n), items handed out in increasing order. While they run, the calling thread reports
/// progress(items done / n) about 5 times a second (when progress is set). The first exception a
/// work item throws stops the handing out of items and is rethrown here once every thread has
/// stopped. An exception thrown by progress (a caller asking to stop, e.g. Ctrl-C in Python) stops the
/// handing out of items too and is rethrown once every thread has finished its current item.
/// Results that work(i) writes to slot i are independent of the thread count.
void parallel_for(std::uint32_t n, unsigned threads, const std::function<void(std::uint32_t)>& work,
                  const std::function<void(double)>& progress);

}  // namespace gengap::core
