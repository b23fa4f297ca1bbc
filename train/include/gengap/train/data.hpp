/// @file data.hpp
/// @brief Data sets in their real file formats (IDX for MNIST / Fashion-MNIST, gzip or raw; CIFAR-10
/// and CIFAR-100 binary batches), synthetic sets for tests, normalization and CIFAR augmentation.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <torch/types.h>

namespace gengap::train {

/// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST: the default data set.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// A malformed, truncated or missing data file. The message is one line naming the file and what
/// was wrong.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An in-memory labelled image set.
struct Dataset {
  torch::Tensor images;  ///< [N, C, H, W], float32 (raw pixels scaled to [0, 1] by the loaders)
  torch::Tensor labels;  ///< [N], int64, in [0, classes)
  int64_t classes = 0;   ///< number of classes
  std::string name;      ///< e.g. "fashion-mnist/train"
  /// Number of samples.
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

/// Reads an IDX image file (magic 0x00000803, ubyte, [N, rows, cols]) and an IDX label file
/// (magic 0x00000801), gzip-compressed or raw. Throws DataError naming the file when it is missing,
/// truncated, has a wrong magic number, or when the counts of images and labels differ.
Dataset load_idx(const std::string& images_file, const std::string& labels_file, const std::string& name = "idx");

/// MNIST or Fashion-MNIST from a folder holding train-images-idx3-ubyte[.gz],
/// train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].
Dataset load_mnist_dir(const std::string& dir, bool train);

/// CIFAR-10 ("binary version": data_batch_1.bin .. data_batch_5.bin, test_batch.bin) from `dir` or
/// `dir`/cifar-10-batches-bin. A folder without them gives a DataError that says which files go where.
Dataset load_cifar10(const std::string& dir, bool train);
/// CIFAR-100 ("binary version": train.bin, test.bin; fine labels) from `dir` or `dir`/cifar-100-binary.
Dataset load_cifar100(const std::string& dir, bool train);

/// A learnable synthetic set: class k's images are a fixed random pattern (drawn from `seed`) plus
/// Gaussian noise of standard deviation `noise` (drawn from `sample_seed`), so a training and a test
/// set share patterns when they share `seed`. Deterministic in both seeds.
Dataset make_synthetic(int64_t n, int64_t channels, int64_t size, int64_t classes, uint64_t seed, uint64_t sample_seed,
                       double noise = 1.0);

/// Per-channel mean and standard deviation of a set's images ([C] each).
std::pair<torch::Tensor, torch::Tensor> channel_stats(const Dataset& d);
/// Normalizes images in place: (x - mean[c]) / std[c].
void normalize(Dataset& d, const torch::Tensor& mean, const torch::Tensor& std);

/// CIFAR augmentation of a batch [B, C, H, W]: zero-pad by `pad` pixels, crop back at a random
/// offset, and flip horizontally with probability 1/2, per sample. Deterministic in `seed`.
torch::Tensor augment_crop_flip(const torch::Tensor& batch, int64_t pad, uint64_t seed);

}  // namespace gengap::train
