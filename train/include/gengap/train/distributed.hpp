/// @file distributed.hpp
/// @brief Data-parallel training across processes on torch.distributed (c10d): rendezvous through a
/// TCPStore, collectives on ProcessGroupGloo (ProcessGroupNCCL is not wired in yet), gradients
/// averaged by bucketed all-reduce launched from the backward pass.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/types.h>

namespace gengap::train {

/// Where and how the workers of one job meet.
struct DistOptions {
  int rank = 0;                            ///< this worker, 0 ... world_size - 1
  int world_size = 1;                      ///< number of workers
  std::string master_addr = "127.0.0.1";   ///< host of rank 0's TCPStore
  int master_port = 29500;                 ///< its port
  double timeout_seconds = 60;             ///< rendezvous and every collective give up after this
  std::string backend = "auto";            ///< auto or gloo: Gloo on every device; nccl: refused (not wired in yet)
};

/// True when this build of gengap can train across processes (c10d with Gloo was found).
bool distributed_available();

/// One worker's membership in a job: the store, the process group, and the collectives the trainer
/// needs. Every collective gives up after the timeout with DistributedError, so a dead or hung peer
/// stops the others within a bounded time.
class Communicator {
 public:
  /// Rendezvous: rank 0 listens on master_addr:master_port, the others connect; all wait for
  /// world_size workers, check that they agree on world_size, and build the process group.
  /// @throws DistributedError with a message naming the cause (port taken, master unreachable,
  /// workers missing, world sizes that disagree) within about timeout_seconds
  Communicator(const DistOptions& options, const torch::Device& device);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  /// This worker's rank.
  int rank() const noexcept;
  /// Number of workers.
  int world_size() const noexcept;
  /// The backend in use: "gloo".
  const std::string& backend() const noexcept;
  /// Copies rank 0's tensors into every worker's (in place).
  void broadcast(std::vector<torch::Tensor>& tensors);
  /// Replaces each tensor by its mean over the workers (in place, floating tensors only).
  void allreduce_mean(std::vector<torch::Tensor>& tensors);
  /// The mean of a number over the workers.
  double allreduce_mean(double value);
  /// Waits until every worker arrives, at most `timeout_seconds` (0: the job's timeout). A worker
  /// that has died is noticed at once whatever the timeout.
  void barrier(double timeout_seconds = 0);

  /// Internal state (c10d types stay out of this header).
  struct Impl;

 private:
  friend class GradientAllReduce;
  std::unique_ptr<Impl> impl_;
};

/// A worker left or the rendezvous failed; the message says which and what to do.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Averages gradients over the workers with bucketed all-reduce overlapped with the backward pass:
/// parameters are grouped in reverse order (the order backward produces their gradients) into
/// buckets of about bucket_bytes; a hook on each parameter copies its gradient into its bucket, and
/// when a bucket is complete its all-reduce starts while backward goes on. finish() waits for all
/// buckets and writes the means back into the parameters' .grad().
class GradientAllReduce {
 public:
  /// @param params the model's parameters (all must require grad and take part in every backward)
  /// @param comm the job
  /// @param bucket_bytes bucket size (default 1 MiB)
  GradientAllReduce(std::vector<torch::Tensor> params, Communicator& comm, std::int64_t bucket_bytes = 1 << 20);
  ~GradientAllReduce();
  GradientAllReduce(const GradientAllReduce&) = delete;
  GradientAllReduce& operator=(const GradientAllReduce&) = delete;
  /// Call before backward.
  void prepare();
  /// Call after backward: waits for every bucket, sets each .grad() to the mean over workers.
  /// Returns the seconds spent waiting here (communication not hidden behind backward).
  double finish();
  /// Number of buckets.
  std::size_t buckets() const noexcept;
  /// |g_k|^2 of this worker's own gradient in the last backward (before averaging), summed over the
  /// buckets as each was launched: the per-worker term of the noise scale (noise_scale.hpp).
  double local_grad_sq() const;

  /// Internal state.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gengap::train
