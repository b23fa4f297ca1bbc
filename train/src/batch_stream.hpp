// Internal: the data stream of an epoch. A producer thread prepares batches ahead of the training step.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <torch/types.h>

#include "gengap/core/philox.hpp"
#include "gengap/train/data.hpp"

namespace gengap::train::detail {

/// One batch: inputs and labels.
struct Batch {
  torch::Tensor x, y;
};

class BatchStream {
 public:
  /// Batches of `batch` samples in the epoch's order; a worker (rank of world) gets its slice
  /// [rank, rank + 1) x batch / world of each, so that the workers together see the single-process batch.
  BatchStream(const Dataset& d, int64_t batch, uint64_t seed, bool augment, int64_t epoch, int rank = 0, int world = 1)
      : data_(d), batch_(batch), seed_(seed), augment_(augment), local_(batch / world), offset_(rank * (batch / world)) {
    const int64_t n = d.size();
    torch::Generator g = at::detail::createCPUGenerator(seed * 1000003ull + static_cast<uint64_t>(epoch));
    perm_ = torch::randperm(n, g, torch::kLong);
    count_ = n / batch;
    epoch_ = epoch;
    worker_ = std::thread([this] { produce(); });
  }
  ~BatchStream() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  int64_t count() const { return count_; }
  Batch next() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [this] { return !q_.empty() || error_; });
    if (error_) std::rethrow_exception(error_);
    Batch b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  void produce() {
    try {
      for (int64_t b = 0; b < count_; ++b) {
        const torch::Tensor idx = perm_.narrow(0, b * batch_, batch_);
        Batch out;
        if (augment_) {
          // The crops of a batch come from one stream over the whole batch: augment it, then slice.
          const uint64_t s = core::Stream(seed_, core::StreamPurpose::kStart, static_cast<uint32_t>(epoch_), static_cast<uint32_t>(b))(0)[0];
          out = {augment_crop_flip(data_.images.index_select(0, idx), 4, s), data_.labels.index_select(0, idx)};
          if (local_ < batch_) out = {out.x.narrow(0, offset_, local_), out.y.narrow(0, offset_, local_)};
        } else {
          const torch::Tensor mine = local_ < batch_ ? idx.narrow(0, offset_, local_) : idx;
          out = {data_.images.index_select(0, mine), data_.labels.index_select(0, mine)};
        }
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [this] { return q_.size() < 3 || stop_; });
        if (stop_) return;
        q_.push_back(std::move(out));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> l(m_);
      error_ = std::current_exception();
      cv_.notify_all();
    }
  }
  const Dataset& data_;
  int64_t batch_;
  uint64_t seed_;
  bool augment_;
  int64_t local_, offset_;
  torch::Tensor perm_;
  int64_t count_ = 0, epoch_ = 0;
  std::deque<Batch> q_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace gengap::train::detail
