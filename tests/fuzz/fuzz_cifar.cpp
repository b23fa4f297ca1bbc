// Fuzzes the CIFAR binary batch reader, in both layouts (CIFAR-10: 1 label byte; CIFAR-100: 2).
#include "fuzz_common.hpp"
#include "gengap/train/data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = gengap::fuzz::text(data, size);
  gengap::fuzz::expect_refused_or_ok([&] { (void)gengap::train::parse_cifar(bytes, "batch.bin", 1, 0, 10); });
  gengap::fuzz::expect_refused_or_ok([&] { (void)gengap::train::parse_cifar(bytes, "train.bin", 2, 1, 100); });
  return 0;
}
