/// @file trainer.hpp
/// @brief The trainer: epochs of SGD under a regime, with the paper's large-batch techniques,
/// evaluation each epoch, metrics as JSONL + CSV, weight distances, atomic checkpoints and resume.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/nn/modules/container/sequential.h>

#include "gengap/train/data.hpp"
#include "gengap/train/regime.hpp"

namespace gengap::train {

/// Everything a training run needs. Validated by validate(); errors name the field.
struct TrainConfig {
  std::string model = "f1";                   ///< f1, c1, c3, resnet44 (resnetN), vgg, wresnet16-4
  std::string dataset = "fashion-mnist";      ///< fashion-mnist, mnist, cifar10, cifar100, synthetic (1x28x28), synthetic-cifar (3x32x32)
  std::string data_dir = kFashionMnistDir;    ///< folder of the data set's files
  int64_t batch_size = 128;                   ///< B, samples per update
  int64_t ghost_batch_size = 128;             ///< B_s: the GBN ghost size, and the lr and adaptation reference unless set below
  int64_t lr_reference_batch = 0;             ///< the batch the regime's lr belongs to: sqrt and linear scaling multiply by
                                              ///< sqrt(B / it) or B / it (0 = ghost_batch_size). The authors' F1: 128 at lr 0.1
  int64_t adaptation_batch = 0;               ///< regime adaptation multiplies epochs by ceil(B / it) (0 = ghost_batch_size)
  std::string norm = "bn";                    ///< bn, gbn (ghost batches of ghost_batch_size) or none
  std::string lr_scaling = "none";            ///< none, sqrt (the paper) or linear (Goyal et al., warm-up)
  double warmup_epochs = 5;                   ///< warm-up length for linear scaling
  bool regime_adaptation = false;             ///< multiply epochs and milestones by ceil(B / B_s)
  double regime_scale = 1;                    ///< multiplies every epoch key and the length of the authors' regime (before
                                              ///< adaptation): 0.1 compresses F1's 40 epochs to 4, drops at 1, 2, 3
  double epochs = 0;                          ///< epochs to train; 0 = the (scaled, adapted) regime's length
  int64_t max_iterations = 0;                 ///< stop after this many updates; 0 = no limit
  double lr = 0;                              ///< if > 0, the first phase's lr (later phases keep their ratios); 0 = the
                                              ///< schedule's own (the authors': 0.1 for F1, ResNet, VGG, WResNet; 0.001 C1/C3)
  std::string lr_schedule;                    ///< "epoch:lr,epoch:lr,...", the first at epoch 0: replaces the regime's lr
                                              ///< phases (each keeps the momentum and weight decay of the authors' phase in
                                              ///< force at its epoch); "" = the authors' (F1: "0:0.1,10:0.01,20:0.001,30:0.0001")
  double momentum = -1;                       ///< SGD momentum of every phase, in [0, 1); -1 = the regime's (authors': 0.9,
                                              ///< C1/C3 0)
  double weight_decay = -1;                   ///< L2 weight decay of every phase, >= 0; -1 = the regime's (authors': 1e-4,
                                              ///< C1/C3 5e-4)
  bool nesterov = false;                      ///< Nesterov momentum
  double clip_norm = 5.0;                     ///< gradient-norm clipping (authors: 5); 0 = off
  uint64_t seed = 1;                          ///< seeds weights, data order, augmentation and dropout
  std::string device = "auto";                ///< auto (CUDA when available), cpu, cuda, cuda:N
  std::string dtype = "float32";              ///< float32 (training) or float64 (exact comparisons: tests, references)
  std::string out_dir = "runs/train";         ///< where metrics, distances and checkpoints go
  int64_t train_subset = 0;                   ///< use only the first N training samples (0 = all)
  int64_t test_subset = 0;                    ///< use only the first N test samples (0 = all)
  int64_t synthetic_size = 2048;              ///< training samples of the synthetic set
  double synthetic_noise = 1.0;               ///< noise std of the synthetic sets (class patterns have std 1)
  int distance_per_decade = 20;               ///< log-spaced distance records per decade after t = 100
  int64_t probe_size = 2048;                  ///< samples of the fixed probe sets (the first of the training and of the test
                                              ///< set) for L(w_t) - L(w_0), batch norm on the whole probe's statistics at w
  bool noise_scale = true;                    ///< measure the gradient noise scale (noise_scale.hpp) at run_log::noise_due() updates
  std::vector<int64_t> snapshot_iterations;   ///< save the weights after these updates (0 = w_0) to out_dir/snapshots
  bool augment = true;                        ///< CIFAR crop + flip (ignored for other data sets)
  bool resume = false;                        ///< continue from out_dir/checkpoint.pt (it must exist and match: resume_mismatches)
  bool progress = true;                       ///< progress on stderr
  // Data-parallel training (distributed.hpp): world_size workers, each with batch_size / world_size
  // samples of every batch; its batch normalization sees only those (a ghost batch of that size).
  int world_size = 1;                         ///< workers in the job (1 = this process alone)
  int rank = 0;                               ///< this worker, 0 ... world_size - 1; rank 0 writes every file
  std::string master_addr = "127.0.0.1";      ///< rank 0's host (the TCPStore rendezvous)
  int master_port = 29500;                    ///< rank 0's port
  double dist_timeout = 60;                   ///< seconds before a rendezvous or collective gives up
  /// Throws core::InvalidArgument naming the field for a bad or contradictory setting.
  void validate() const;
  /// lr_reference_batch, or ghost_batch_size when it is 0.
  int64_t lr_reference() const { return lr_reference_batch > 0 ? lr_reference_batch : ghost_batch_size; }
  /// adaptation_batch, or ghost_batch_size when it is 0.
  int64_t adaptation_reference() const { return adaptation_batch > 0 ? adaptation_batch : ghost_batch_size; }
};

/// JSON of a config (every field) and back; from_json rejects unknown fields. A run's config.json also
/// holds "schedule" (regime_json() of resolve_regime(), what the fields above resolve to, for the
/// reader): apply_json() accepts it only when it matches what the fields resolve to (set lr,
/// lr_schedule, momentum or weight_decay to change the schedule, not "schedule").
void to_json(nlohmann::json& j, const TrainConfig& c);
/// Fills `c` from `j`, strictly (core::json_as: no fraction for an integer, no negative seed, no
/// other type); throws core::InvalidArgument on an unknown field or a wrong value.
void from_json(const nlohmann::json& j, TrainConfig& c);
/// from_json() with `where` (e.g. "in run.json") appended to error messages.
void apply_json(const nlohmann::json& j, TrainConfig& c, const std::string& where);

/// The fields a resumed run must share with the run that wrote the checkpoint: model, data, batch
/// and ghost size, norm, lr rule, the regime's clock (adaptation, scale), seed, probe, world size,
/// dtype. The lr, clipping, momentum and warm-up may change on purpose, as may epochs,
/// max_iterations, device, out_dir and the progress and rendezvous settings.
const std::vector<std::string>& resume_fields();

/// The fields of resume_fields() in which `now` differs from `saved` (a checkpoint's config), as
/// "name: saved -> now" texts; empty when the run may resume.
std::vector<std::string> resume_mismatches(const TrainConfig& now, const nlohmann::json& saved);

/// The regime a config trains with: the model's (authors_regime), its lr phases replaced by
/// lr_schedule when given, its first lr replaced by `lr` when that is > 0 (the other phases keep
/// their ratios), momentum and weight decay replaced when given (>= 0), every key scaled by
/// regime_scale, adapted to batch_size / adaptation_reference() when regime_adaptation. The trainer
/// and the repro both use this. The lr is the reference batch's: lr_scaling applies on top.
Regime resolve_regime(const TrainConfig& c);

/// A regime as JSON: {"unit", "length", "phases": [{"start", "lr", "momentum", "weight_decay"}]}.
nlohmann::json regime_json(const Regime& r);

/// What a config plans for a training set of `train_size` samples.
struct RegimePlan {
  int64_t per_epoch = 0;   ///< updates per epoch: floor(train_size / batch_size)
  int64_t first_drop = 0;  ///< the update at which the first learning-rate drop happens (total when none)
  int64_t total = 0;       ///< updates planned (epochs or the regime's length, capped by max_iterations)
  double epochs = 0;       ///< epochs planned
};
/// The plan of `c` on `train_size` samples. @throws core::InvalidArgument for more than 2^53 updates
RegimePlan plan_regime(const TrainConfig& c, int64_t train_size);

/// What a run returns (also written to out_dir/summary.json).
struct TrainSummary {
  int64_t iterations = 0;        ///< updates done
  double epochs = 0;             ///< epochs done
  double final_train_loss = 0;   ///< mean training loss of the last epoch
  double train_accuracy = 0;     ///< accuracy on the whole training set after the last update (eval mode), in [0, 1]
  double train_loss = 0;         ///< mean loss on the whole training set after the last update (eval mode)
  double test_accuracy = 0;      ///< accuracy on the test set after the last epoch, in [0, 1]
  double test_loss = 0;          ///< mean test loss after the last epoch
  double final_distance = 0;     ///< ||w - w_0|| at the end
  double seconds = 0;            ///< wall-clock time of this invocation
  std::string device;            ///< the device used
  int world_size = 1;            ///< workers that trained together
  double step_seconds = 0;       ///< mean wall time of one update in this invocation (data wait excluded)
  double allreduce_seconds = 0;  ///< of which: mean time waiting for the gradient all-reduce after backward
  std::string blas;              ///< the CPU BLAS kernels the products ran on (OpenBLAS's family, core::blas_kernel_name()); empty on a GPU or without OpenBLAS
  /// The schedule this run trained with: the model's regime, scaled, adapted, each phase's lr the one
  /// used at this batch size (after lr scaling and any warm-up), with momentum and weight decay.
  Regime schedule;
  int64_t first_drop = 0;        ///< the update of the first lr drop (the total when none)
  int64_t updates_per_epoch = 0; ///< updates per epoch
};

/// The summary as summary.json holds it (every field, and samples_per_second = batch_size / step_seconds;
/// the schedule as {"unit", "length", "first_drop_update", "updates_per_epoch", "phases": [{"start", "lr",
/// "momentum", "weight_decay"}]}).
nlohmann::json summary_json(const TrainSummary& s, int64_t batch_size);

/// The training and test sets of a config as train() sees them: loaded (subsets applied), checked
/// against each other, normalized by the training set's channel statistics, in the config's dtype.
/// The probe sets are their first probe_size samples. @throws DataError / core::InvalidArgument
std::pair<Dataset, Dataset> training_data(const TrainConfig& cfg);

/// The model of a config for these data, as train() builds it (seeded, on `device`, in the config's
/// dtype, in training mode): load a snapshot (load_snapshot()) into it to evaluate an iterate.
torch::nn::Sequential run_model(const TrainConfig& cfg, const Dataset& train_set, const Dataset& test_set, const torch::Device& device);

/// Every check train() makes before it writes anything, without training: the config, the device,
/// the checkpoint to resume (present, readable, same settings), the data (readable, square images
/// the model can take), a plan of at least one update, the output folder. Throws what train() would.
/// `gengap-train --nproc N` calls it before it starts the workers.
void preflight(const TrainConfig& config);

/// Runs training. Every setting, the output folder, the data and (with resume) the checkpoint are
/// checked before anything is written: a checkpoint that is missing, truncated, not a gengap
/// checkpoint, or made with other settings (resume_mismatches) is a core::InvalidArgument naming
/// the file and the differing fields. Files are written atomically (core::write_file_atomic): a
/// full disk stops the run with core::RuntimeError and leaves the previous files intact.
/// Files in out_dir: config.json, metrics.jsonl and metrics.csv (per epoch),
/// distance.csv and distance_layers.jsonl (iteration, epoch, loss, ||w - w_0||, L(w_t) - L(w_0) on the
/// training and the test probe), noise.csv (the gradient noise scale), snapshots/w_\<t\>.pt (the weights
/// after the updates in snapshot_iterations), checkpoint.pt (written atomically at each epoch's end),
/// summary.json (with the final accuracy and loss on the whole training set, batch norm on running
/// statistics).
/// A NaN or Inf loss stops the run with std::runtime_error; the last good checkpoint is kept.
/// With world_size > 1 every worker calls train() with its rank: they meet at master_addr:master_port,
/// take their slice of each global batch (the global order is the single-process order for the same
/// seed), average gradients by all-reduce before clipping and the step, and rank 0 alone evaluates and
/// writes files; a worker that stops makes the others fail with DistributedError within dist_timeout.
/// `on_update(updates done, updates planned)` is called on the calling thread after every update. An
/// exception it throws stops training there and is rethrown (how a caller cancels, e.g. Ctrl-C in
/// Python): every file on disk is complete as last written (atomically, at the end of the last finished
/// epoch: resume continues from there), and summary.json is not written.
TrainSummary train(const TrainConfig& config, const std::function<void(int64_t, int64_t)>& on_update = {});

}  // namespace gengap::train
