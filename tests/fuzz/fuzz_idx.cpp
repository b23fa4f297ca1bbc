// Fuzzes the IDX readers (MNIST, Fashion-MNIST): gzip or raw bytes, image and label headers, the
// data set made of both. Input: 4 bytes giving where the label file starts, then the two files.
#include "fuzz_common.hpp"
#include "gengap/train/data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::uint32_t split = (std::uint32_t{data[0]} << 24 | std::uint32_t{data[1]} << 16 | std::uint32_t{data[2]} << 8 | data[3]) %
                              static_cast<std::uint32_t>(size - 3);
  const std::string all = gengap::fuzz::text(data + 4, size - 4);
  const std::string images = all.substr(0, split), labels = all.substr(split);
  gengap::fuzz::expect_refused_or_ok([&] {
    // 16 MiB of decompressed output at most here: a gzip bomb is refused, not followed.
    const std::string im = gengap::train::decompress(images, "images.gz", std::size_t{16} << 20);
    const std::string lb = gengap::train::decompress(labels, "labels.gz", std::size_t{16} << 20);
    const auto d = gengap::train::idx_dataset(im, lb, "images", "labels", 10);
    if (d.size() != d.images.size(0)) __builtin_trap();
  });
  return 0;
}
