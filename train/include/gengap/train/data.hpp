/// @file data.hpp
/// @brief Data sets in their real file formats (IDX for MNIST / Fashion-MNIST, gzip or raw; CIFAR-10
/// and CIFAR-100 binary batches), synthetic sets for tests, normalization and CIFAR augmentation.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <torch/types.h>

#include "gengap/core/error.hpp"

namespace gengap::train {

/// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST: the default data set.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// A malformed, truncated or missing data file. The message is one line naming the file and what
/// was wrong.
class DataError : public core::InputError {
 public:
  using core::InputError::InputError;
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

/// The bytes of a data file as stored: gzip data (one or more members, magic 1f 8b) is inflated and
/// checked to its trailer (a truncated or corrupt stream, garbage after it, or more than `max_bytes`
/// of output is a DataError naming `file`); anything else is returned as is.
std::string decompress(const std::string& bytes, const std::string& file, std::size_t max_bytes = std::size_t{1} << 31);

/// An IDX ubyte image file's header and pixels.
struct IdxImages {
  uint64_t count = 0;  ///< images N
  uint64_t rows = 0;   ///< rows per image
  uint64_t cols = 0;   ///< columns per image
  std::string pixels;  ///< N x rows x cols bytes, row-major
};

/// Parses an IDX image file's bytes (magic 0x00000803, [N, rows, cols]): a wrong magic, a side
/// outside 1 ... 65536, fewer or more bytes than the header announces is a DataError naming `file`.
IdxImages parse_idx_images(const std::string& bytes, const std::string& file);

/// Parses an IDX label file's bytes (magic 0x00000801): the labels, each checked to lie in
/// [0, classes); a wrong magic, a wrong length or a label out of range is a DataError naming `file`.
std::string parse_idx_labels(const std::string& bytes, const std::string& file, int64_t classes);

/// A data set from the (decompressed) bytes of an IDX image file and an IDX label file, checked
/// as load_idx() checks them; the file names are for messages.
Dataset idx_dataset(const std::string& images, const std::string& labels, const std::string& images_file,
                    const std::string& labels_file, int64_t classes = 10);

/// Reads an IDX image file and an IDX label file (each raw or gzip-compressed) with labels in
/// [0, classes). Throws DataError naming the file when it is missing, truncated, longer than its
/// header says, has a wrong magic number or a label out of range, or when the counts differ.
Dataset load_idx(const std::string& images_file, const std::string& labels_file, const std::string& name = "idx",
                 int64_t classes = 10);

/// MNIST or Fashion-MNIST from a folder holding train-images-idx3-ubyte[.gz],
/// train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].
Dataset load_mnist_dir(const std::string& dir, bool train);

/// Parses the bytes of one CIFAR binary batch: records of `label_bytes` label bytes (the label at
/// `label_index`) and 3 x 32 x 32 pixels; a length that is not a whole number of records or a label
/// outside [0, classes) is a DataError naming `file`.
Dataset parse_cifar(const std::string& bytes, const std::string& file, int label_bytes, int label_index, int64_t classes);

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
