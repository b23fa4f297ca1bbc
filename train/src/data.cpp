// Data sets from their real file formats, synthetic sets, normalization and augmentation.
#include "gengap/train/data.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <vector>

#include <ATen/ATen.h>

#include "gengap/core/error.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/philox.hpp"

namespace gengap::train {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw DataError(file + ": " + what); }

constexpr std::size_t kMaxDataBytes = std::size_t{1} << 31;  // 2 GiB: far above MNIST (47 MB) and CIFAR (180 MB)

uint32_t be32(const std::string& b, std::size_t at) {
  auto u = [&](std::size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[at + i])); };
  return (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
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

std::string read_data_file(const std::string& file) {
  if (!fs::exists(file)) fail(file, "no such file");
  try {
    return decompress(core::read_file(file, "data", kMaxDataBytes), file, kMaxDataBytes);
  } catch (const core::InvalidArgument& e) {
    fail(file, e.what());
  }
}

}  // namespace

std::string decompress(const std::string& bytes, const std::string& file, std::size_t max_bytes) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b) return bytes;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(file, "zlib could not start");
  std::string out;
  std::size_t pos = 0;
  char buf[1 << 16];
  for (;;) {
    // One gzip member; several members are concatenated data (RFC 1952).
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + pos));
    zs.avail_in = static_cast<uInt>(bytes.size() - pos);  // at most 2 GiB (read_file's limit): fits in uInt
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        const std::string msg = rc == Z_BUF_ERROR ? std::string("truncated gzip data (the stream or its trailer is incomplete)")
                                                  : "corrupt gzip data (" + std::string(zs.msg ? zs.msg : "zlib error " + std::to_string(rc)) + ")";
        inflateEnd(&zs);
        fail(file, msg);
      }
      out.append(buf, sizeof buf - zs.avail_out);
      if (out.size() > max_bytes) {
        inflateEnd(&zs);
        fail(file, "decompresses to more than " + std::to_string(max_bytes) + " bytes; not a data set this loader reads");
      }
    }
    pos = static_cast<std::size_t>(reinterpret_cast<const char*>(zs.next_in) - bytes.data());
    if (pos >= bytes.size()) break;
    if (bytes.size() - pos < 2 || static_cast<unsigned char>(bytes[pos]) != 0x1f || static_cast<unsigned char>(bytes[pos + 1]) != 0x8b) {
      inflateEnd(&zs);
      fail(file, std::to_string(bytes.size() - pos) + " bytes of garbage after the gzip data");
    }
    inflateReset(&zs);
  }
  inflateEnd(&zs);
  return out;
}

IdxImages parse_idx_images(const std::string& b, const std::string& file) {
  if (b.size() < 16) fail(file, "truncated: " + std::to_string(b.size()) + " bytes, shorter than the 16-byte IDX header");
  if (be32(b, 0) != 0x00000803u) fail(file, "wrong magic " + hex(be32(b, 0)) + ", expected 0x00000803 (IDX ubyte images)");
  IdxImages im;
  im.count = be32(b, 4);
  im.rows = be32(b, 8);
  im.cols = be32(b, 12);
  if (im.rows < 1 || im.cols < 1 || im.rows > 65536 || im.cols > 65536)
    fail(file, "image size " + std::to_string(im.rows) + "x" + std::to_string(im.cols) + " in the header: expected 1 ... 65536 per side");
  // n x rows x cols: at most 2^32 x 2^32 -> compare in long double before any product overflows.
  const long double want = 16.0L + static_cast<long double>(im.count) * im.rows * im.cols;
  if (static_cast<long double>(b.size()) < want)
    fail(file, "truncated: " + std::to_string(b.size()) + " bytes, the header announces " + std::to_string(im.count) + " images of " +
                   std::to_string(im.rows) + "x" + std::to_string(im.cols) + " (" + std::to_string(static_cast<unsigned long long>(want)) + " bytes)");
  if (static_cast<long double>(b.size()) > want)
    fail(file, std::to_string(b.size() - static_cast<std::size_t>(want)) + " bytes after the " + std::to_string(im.count) +
                   " images the header announces");
  im.pixels = b.substr(16);
  return im;
}

std::string parse_idx_labels(const std::string& b, const std::string& file, int64_t classes) {
  if (b.size() < 8) fail(file, "truncated: " + std::to_string(b.size()) + " bytes, shorter than the 8-byte IDX header");
  if (be32(b, 0) != 0x00000801u) fail(file, "wrong magic " + hex(be32(b, 0)) + ", expected 0x00000801 (IDX ubyte labels)");
  const uint64_t n = be32(b, 4);
  if (b.size() - 8 < n) fail(file, "truncated: " + std::to_string(b.size() - 8) + " label bytes, the header announces " + std::to_string(n));
  if (b.size() - 8 > n) fail(file, std::to_string(b.size() - 8 - n) + " bytes after the " + std::to_string(n) + " labels the header announces");
  for (uint64_t i = 0; i < n; ++i) {
    const int64_t l = static_cast<unsigned char>(b[8 + i]);
    if (l >= classes)
      fail(file, "label " + std::to_string(l) + " of sample " + std::to_string(i) + " is out of range for " + std::to_string(classes) +
                     " classes (expected 0 ... " + std::to_string(classes - 1) + ")");
  }
  return b.substr(8);
}

Dataset idx_dataset(const std::string& images, const std::string& labels, const std::string& images_file,
                    const std::string& labels_file, int64_t classes) {
  if (classes < 2 || classes > 256) throw core::InvalidArgument("classes", std::to_string(classes), "must lie in [2, 256] for IDX labels");
  const IdxImages im = parse_idx_images(images, images_file);
  const std::string lab = parse_idx_labels(labels, labels_file, classes);
  if (lab.size() != im.count)
    fail(labels_file, std::to_string(lab.size()) + " labels do not match the " + std::to_string(im.count) + " images of " + images_file);
  if (im.count == 0) fail(images_file, "holds no images");
  const auto n = static_cast<int64_t>(im.count), rows = static_cast<int64_t>(im.rows), cols = static_cast<int64_t>(im.cols);
  Dataset d;
  d.name = images_file;
  d.images = torch::from_blob(const_cast<char*>(im.pixels.data()), {n, 1, rows, cols}, torch::kUInt8).to(torch::kFloat).div_(255.0);
  d.labels = torch::from_blob(const_cast<char*>(lab.data()), {n}, torch::kUInt8).to(torch::kLong);
  d.classes = classes;
  return d;
}

Dataset load_idx(const std::string& images_file, const std::string& labels_file, const std::string& name, int64_t classes) {
  const std::string images = read_data_file(images_file);  // images first: messages in a fixed order
  const std::string labels = read_data_file(labels_file);
  Dataset d = idx_dataset(images, labels, images_file, labels_file, classes);
  d.name = name;
  return d;
}

Dataset load_mnist_dir(const std::string& dir, bool train) {
  const std::string pre = train ? "train" : "t10k";
  return load_idx(first_existing(dir, pre + "-images-idx3-ubyte"), first_existing(dir, pre + "-labels-idx1-ubyte"),
                  fs::path(dir).filename().string() + (train ? "/train" : "/test"), 10);
}

Dataset parse_cifar(const std::string& b, const std::string& file, int label_bytes, int label_index, int64_t classes) {
  constexpr int64_t kPixels = 3 * 32 * 32;
  const int64_t rec = label_bytes + kPixels;
  if (b.empty() || b.size() % static_cast<std::size_t>(rec) != 0)
    fail(file, "truncated or not a CIFAR binary batch: " + std::to_string(b.size()) + " bytes is not a multiple of the " +
                   std::to_string(rec) + "-byte record");
  const int64_t n = static_cast<int64_t>(b.size()) / rec;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = static_cast<unsigned char>(b[static_cast<std::size_t>(i * rec + label_index)]);
    if (l >= classes)
      fail(file, "label " + std::to_string(l) + " of record " + std::to_string(i) + " is out of range for " + std::to_string(classes) +
                     " classes");
  }
  auto t = torch::from_blob(const_cast<char*>(b.data()), {n, rec}, torch::kUInt8).clone();
  Dataset d;
  d.labels = t.select(1, label_index).to(torch::kLong);
  d.images = t.narrow(1, label_bytes, kPixels).reshape({n, 3, 32, 32}).to(torch::kFloat).div_(255.0);
  d.classes = classes;
  d.name = file;
  return d;
}

namespace {
Dataset load_cifar_files(const std::vector<std::string>& files, int label_bytes, int label_index, int64_t classes,
                         const std::string& name) {
  std::vector<torch::Tensor> imgs, labs;
  for (const auto& f : files) {
    const Dataset part = parse_cifar(read_data_file(f), f, label_bytes, label_index, classes);
    imgs.push_back(part.images);
    labs.push_back(part.labels);
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
    throw core::InputError("make_synthetic: n, channels, size must be >= 1 and classes >= 2");
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
    throw core::InputError("normalize: need one mean and std per channel (" + std::to_string(d.images.size(1)) + ")");
  d.images.sub_(mean.view({1, -1, 1, 1})).div_(std.view({1, -1, 1, 1}));
}

torch::Tensor augment_crop_flip(const torch::Tensor& batch, int64_t pad, uint64_t seed) {
  const int64_t b = batch.size(0), h = batch.size(2), w = batch.size(3);
  const torch::Tensor padded = torch::constant_pad_nd(batch, {pad, pad, pad, pad}, 0);
  torch::Tensor out = torch::empty_like(batch);
  for (int64_t i = 0; i < b; ++i) {
    const auto r = core::Stream(seed, core::StreamPurpose::kStart, static_cast<uint32_t>(i), 0x0A06u)(0);
    const int64_t dy = r[0] % (2 * pad + 1), dx = r[1] % (2 * pad + 1);
    torch::Tensor crop = padded[i].narrow(1, dy, h).narrow(2, dx, w);
    if (r[2] & 1u) crop = crop.flip({2});
    out[i].copy_(crop);
  }
  return out;
}

}  // namespace gengap::train
