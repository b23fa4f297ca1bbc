/// @file checkpoint.hpp
/// @brief Checkpoints as bytes: written in memory and stored atomically (core::write_file_atomic), so
/// a full disk never leaves a half-written file; read from bytes with every part checked, so a
/// truncated, empty or foreign file is a one-line error naming it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

namespace gengap::train {

/// What a checkpoint holds besides the model's and the optimizer's state.
struct CheckpointState {
  int64_t iteration = 0;                              ///< updates done
  int64_t epoch = 0;                                  ///< epochs done
  double probe0 = 0;                                  ///< L(w_0) on the training probe set
  double probe_test0 = 0;                             ///< L(w_0) on the test probe set
  nlohmann::json noise = nlohmann::json::array();     ///< noise.csv's rows so far (run_log.hpp)
  nlohmann::json metrics = nlohmann::json::array();   ///< metrics.jsonl's rows so far
  nlohmann::json distances = nlohmann::json::array(); ///< distance records so far
  int world_size = 1;                                 ///< workers that wrote it
  int64_t clipped = 0;                                ///< updates clipped so far
  nlohmann::json config = nlohmann::json::object();   ///< the TrainConfig of the run (to_json)
};

/// A checkpoint's bytes: the model, the optimizer, w_0 (by parameter name), the state (JSON) and the
/// CPU generator's state as a LibTorch archive, in a container that lets a reader verify it before
/// LibTorch parses it: "GENGAPCK", the archive's length and its FNV-1a 64 hash (8 bytes each, little
/// endian), then the archive. Serialized in memory: nothing touches the disk.
std::string checkpoint_bytes(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                             const std::map<std::string, torch::Tensor>& w0, const CheckpointState& state);

/// checkpoint_bytes() with the state given as text, unchecked: for tests and fuzzing of the reader.
std::string checkpoint_bytes_with_state(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                                        const std::map<std::string, torch::Tensor>& w0, const std::string& state_text);

/// Whether `bytes` is a whole gengap checkpoint container (header, length and hash agree). A
/// truncated, extended or altered file is not: its archive is never handed to LibTorch, whose
/// parser is not hardened against damaged input.
bool checkpoint_intact(const std::string& bytes);

/// A checkpoint read from bytes and checked: the archive opens, and its state has every field
/// with the right type (rows of metrics and distances included).
class Checkpoint {
 public:
  /// Verifies (checkpoint_intact) and parses `bytes` (read from `file`, named in errors), mapping
  /// tensors to `device`.
  /// @throws core::InvalidArgument ("checkpoint = FILE: ...") for empty, truncated, altered or foreign data
  Checkpoint(const std::string& bytes, const std::string& file, const torch::Device& device);
  /// The checked state.
  const CheckpointState& state() const { return state_; }
  /// Loads the model's and the optimizer's state, w_0 (one tensor per name already in `w0`, moved to
  /// `device`) and the CPU generator's state. @throws core::InvalidArgument when they do not fit
  /// (a checkpoint of another model)
  void restore(torch::nn::Module& model, torch::optim::Optimizer& optimizer, std::map<std::string, torch::Tensor>& w0,
               const torch::Device& device);
  /// Loads the model's state only (e.g. to evaluate or compare weights).
  /// @throws core::InvalidArgument when it does not fit
  void load_model(torch::nn::Module& model);

 private:
  torch::serialize::InputArchive archive_;
  CheckpointState state_;
  std::string file_;
};

/// A snapshot: the model's state (parameters and buffers) alone, in the same checked container as a
/// checkpoint (magic "GENGAPSN"): the weights of one iterate, for measurements after the run.
std::string snapshot_bytes(const torch::nn::Module& model);

/// Loads a snapshot's bytes (read from `file`, named in errors) into `model`, tensors on `device`;
/// every tensor is checked (name, size, dtype) before any is copied, so a refused snapshot leaves the model as it was.
/// @throws core::InvalidArgument ("snapshot = FILE: ...") for damaged or foreign data, or a snapshot of another model
void load_snapshot(torch::nn::Module& model, const std::string& bytes, const std::string& file, const torch::Device& device);

}  // namespace gengap::train
