// Independent work items spread over threads, with progress and errors.
#include "gengap/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gengap::core {

void parallel_for(std::uint32_t n, unsigned threads, const std::function<void(std::uint32_t)>& work,
                  const std::function<void(double)>& progress) {
  if (n == 0) return;
  threads = std::min<unsigned>(threads ? threads : std::max(1u, std::thread::hardware_concurrency()), n);
  std::atomic<std::uint32_t> next{0}, done{0};
  std::atomic<bool> abort{false};
  std::exception_ptr error;
  std::mutex mu;
  std::condition_variable cv;
  auto worker = [&] {
    try {
      for (std::uint32_t i = next++; i < n && !abort; i = next++) {
        work(i);
        ++done;
        cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
      abort = true;
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back(worker);
  std::exception_ptr stopped;  // thrown by progress: the caller asks to stop
  {
    std::unique_lock<std::mutex> lock(mu);
    while (done < n && !abort) {
      cv.wait_for(lock, std::chrono::milliseconds(200));
      if (!progress) continue;
      try {
        progress(static_cast<double>(done) / n);
      } catch (...) {
        stopped = std::current_exception();
        abort = true;
      }
    }
  }
  for (auto& th : pool) th.join();
  if (stopped) std::rethrow_exception(stopped);
  if (error) std::rethrow_exception(error);
}

}  // namespace gengap::core
