// Data sets from their real file formats, synthetic sets, normalization and augmentation.
#include "gengap/train/data.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <vector>

#include <ATen/ATen.h>

#include "gengap/sim/philox.hpp"

namespace gengap::train {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw DataError(file + ": " + what); }

/// Reads a whole file through zlib (gzip or raw, transparently).
std::vector<unsigned char> read_all(const std::string& file) {
  if (!fs::exists(file)) fail(file, "no such file");
  gzFile f = gzopen(file.c_str(), "rb");
  if (!f) fail(file, "cannot open");
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      fail(file, "corrupt compressed data (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  gzclose(f);
  return out;
}

uint32_t be32(const std::vector<unsigned char>& b, std::size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}

std::string hex(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

std::string first_existing(const std::string& dir, const std::string& base) {
  for (const std::string& cand : {base, base + ".gz"}) {
    const fs::path p = fs::path(dir) / cand;
    if (fs::exists(p)) return p.string();
  }
  return (fs::path(dir) / base).string();
}

}  // namespace

Dataset load_idx(const std::string& images_file, const std::string& labels_file, const std::string& name) {
  const auto img = read_all(images_file);
  if (img.size() < 16) fail(images_file, "truncated: " + std::to_string(img.size()) + " bytes, shorter than the 16-byte IDX header");
  if (be32(img, 0) != 0x00000803u) fail(images_file, "wrong magic " + hex(be32(img, 0)) + ", expected 0x00000803 (IDX ubyte images)");
  const int64_t n = be32(img, 4), rows = be32(img, 8), cols = be32(img, 12);
  const auto want = static_cast<std::size_t>(16 + n * rows * cols);
  if (img.size() < want)
    fail(images_file, "truncated: " + std::to_string(img.size()) + " bytes, the header announces " + std::to_string(n) + " images of " +
                          std::to_string(rows) + "x" + std::to_string(cols) + " (" + std::to_string(want) + " bytes)");
  const auto lab = read_all(labels_file);
  if (lab.size() < 8) fail(labels_file, "truncated: " + std::to_string(lab.size()) + " bytes, shorter than the 8-byte IDX header");
  if (be32(lab, 0) != 0x00000801u) fail(labels_file, "wrong magic " + hex(be32(lab, 0)) + ", expected 0x00000801 (IDX ubyte labels)");
  const int64_t nl = be32(lab, 4);
  if (lab.size() < static_cast<std::size_t>(8 + nl))
    fail(labels_file, "truncated: " + std::to_string(lab.size() - 8) + " label bytes, the header announces " + std::to_string(nl));
  if (nl != n)
    fail(labels_file, std::to_string(nl) + " labels do not match the " + std::to_string(n) + " images of " + images_file);
  Dataset d;
  d.name = name;
  d.images = torch::from_blob(const_cast<unsigned char*>(img.data() + 16), {n, 1, rows, cols}, torch::kUInt8).to(torch::kFloat).div_(255.0);
  d.labels = torch::from_blob(const_cast<unsigned char*>(lab.data() + 8), {n}, torch::kUInt8).to(torch::kLong);
  d.classes = n > 0 ? d.labels.max().item<int64_t>() + 1 : 0;
  return d;
}

Dataset load_mnist_dir(const std::string& dir, bool train) {
  const std::string pre = train ? "train" : "t10k";
  return load_idx(first_existing(dir, pre + "-images-idx3-ubyte"), first_existing(dir, pre + "-labels-idx1-ubyte"),
                  fs::path(dir).filename().string() + (train ? "/train" : "/test"));
}

namespace {
Dataset load_cifar_files(const std::vector<std::string>& files, int label_bytes, int label_index, int64_t classes,
                         const std::string& name) {
  constexpr int64_t kPixels = 3 * 32 * 32;
  const int64_t rec = label_bytes + kPixels;
  std::vector<torch::Tensor> imgs, labs;
  for (const auto& f : files) {
    const auto b = read_all(f);
    if (b.empty() || b.size() % static_cast<std::size_t>(rec) != 0)
      fail(f, "truncated or not a CIFAR binary batch: " + std::to_string(b.size()) + " bytes is not a multiple of the " +
                  std::to_string(rec) + "-byte record");
    const int64_t n = static_cast<int64_t>(b.size()) / rec;
    auto t = torch::from_blob(const_cast<unsigned char*>(b.data()), {n, rec}, torch::kUInt8).clone();
    labs.push_back(t.select(1, label_index).to(torch::kLong));
    imgs.push_back(t.narrow(1, label_bytes, kPixels).reshape({n, 3, 32, 32}).to(torch::kFloat).div_(255.0));
    const int64_t mx = labs.back().max().item<int64_t>();
    if (mx >= classes) fail(f, "label " + std::to_string(mx) + " out of range for " + std::to_string(classes) + " classes");
  }
  Dataset d;
  d.images = torch::cat(imgs);
  d.labels = torch::cat(labs);
  d.classes = classes;
  d.name = name;
  return d;
}

std::string cifar_dir(const std::string& dir, const std::string& sub, const std::string& probe) {
  if (fs::exists(fs::path(dir) / probe)) return dir;
  if (fs::exists(fs::path(dir) / sub / probe)) return (fs::path(dir) / sub).string();
  return {};
}
}  // namespace

Dataset load_cifar10(const std::string& dir, bool train) {
  const std::string d = cifar_dir(dir, "cifar-10-batches-bin", train ? "data_batch_1.bin" : "test_batch.bin");
  if (d.empty())
    throw DataError(dir + ": CIFAR-10 not found: put the binary version's data_batch_1.bin ... data_batch_5.bin and test_batch.bin in " +
                    dir + " or " + (fs::path(dir) / "cifar-10-batches-bin").string());
  std::vector<std::string> files;
  if (train) {
    for (int i = 1; i <= 5; ++i) files.push_back((fs::path(d) / ("data_batch_" + std::to_string(i) + ".bin")).string());
  } else {
    files.push_back((fs::path(d) / "test_batch.bin").string());
  }
  return load_cifar_files(files, 1, 0, 10, train ? "cifar10/train" : "cifar10/test");
}

Dataset load_cifar100(const std::string& dir, bool train) {
  const std::string d = cifar_dir(dir, "cifar-100-binary", train ? "train.bin" : "test.bin");
  if (d.empty())
    throw DataError(dir + ": CIFAR-100 not found: put the binary version's train.bin and test.bin in " + dir + " or " +
                    (fs::path(dir) / "cifar-100-binary").string());
  return load_cifar_files({(fs::path(d) / (train ? "train.bin" : "test.bin")).string()}, 2, 1, 100,
                          train ? "cifar100/train" : "cifar100/test");
}

Dataset make_synthetic(int64_t n, int64_t channels, int64_t size, int64_t classes, uint64_t seed, uint64_t sample_seed,
                       double noise) {
  if (n < 1 || channels < 1 || size < 1 || classes < 2)
    throw std::invalid_argument("make_synthetic: n, channels, size must be >= 1 and classes >= 2");
  torch::Generator pattern_gen = at::detail::createCPUGenerator(seed);
  torch::Generator gen = at::detail::createCPUGenerator(sample_seed);
  Dataset d;
  const torch::Tensor patterns = at::randn({classes, channels, size, size}, pattern_gen);
  d.labels = at::randint(classes, {n}, gen, torch::kLong);
  d.images = patterns.index_select(0, d.labels) + noise * at::randn({n, channels, size, size}, gen);
  d.classes = classes;
  d.name = "synthetic";
  return d;
}

std::pair<torch::Tensor, torch::Tensor> channel_stats(const Dataset& d) {
  const torch::Tensor x = d.images.transpose(0, 1).reshape({d.images.size(1), -1});
  return {x.mean(1), x.std(1)};
}

void normalize(Dataset& d, const torch::Tensor& mean, const torch::Tensor& std) {
  if (mean.numel() != d.images.size(1) || std.numel() != d.images.size(1))
    throw std::invalid_argument("normalize: need one mean and std per channel (" + std::to_string(d.images.size(1)) + ")");
  d.images.sub_(mean.view({1, -1, 1, 1})).div_(std.view({1, -1, 1, 1}));
}

torch::Tensor augment_crop_flip(const torch::Tensor& batch, int64_t pad, uint64_t seed) {
  const int64_t b = batch.size(0), h = batch.size(2), w = batch.size(3);
  const torch::Tensor padded = torch::constant_pad_nd(batch, {pad, pad, pad, pad}, 0);
  torch::Tensor out = torch::empty_like(batch);
  for (int64_t i = 0; i < b; ++i) {
    const auto r = sim::Stream(seed, sim::StreamPurpose::kStart, static_cast<uint32_t>(i), 0x0A06u)(0);
    const int64_t dy = r[0] % (2 * pad + 1), dx = r[1] % (2 * pad + 1);
    torch::Tensor crop = padded[i].narrow(1, dy, h).narrow(2, dx, w);
    if (r[2] & 1u) crop = crop.flip({2});
    out[i].copy_(crop);
  }
  return out;
}

}  // namespace gengap::train
