// gengap-train as a user runs it: a tiny run, and bad input ending with a one-line error, exit code 2.
#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../common/cli_run.hpp"
#include "gengap/core/blas.hpp"

namespace {
namespace fs = std::filesystem;

fs::path dir() { return gengap::testing::scratch("train_cli"); }
gengap::testing::Outcome run(const std::string& args) { return gengap::testing::run_tool(GENGAP_TRAIN_EXE, args, dir()); }
std::string write(const std::string& name, const std::string& text) { return gengap::testing::write_text(dir(), name, text); }
void expect_error(const std::string& args, const std::string& needle) {
  gengap::testing::expect_error(GENGAP_TRAIN_EXE, args, dir(), needle);
}
}  // namespace

TEST_CASE("gengap-train runs from a JSON config with flags overriding it", "[cli]") {
  const std::string out = (dir() / "run").string();
  fs::remove_all(out);
  const std::string cfg = write("cfg.json", R"({"dataset": "synthetic", "synthetic_size": 256, "batch_size": 64, "epochs": 5, "device": "cpu"})");
  REQUIRE(run("--config " + cfg + " -e 1 --no-progress -o " + out).code == 0);
  CHECK(fs::exists(fs::path(out) / "metrics.jsonl"));
  std::ifstream in(fs::path(out) / "config.json");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find("\"epochs\": 1.0") != std::string::npos);
  CHECK(run("--help").code == 0);
}

TEST_CASE("gengap-train rejects bad input with the field named, exit code 2", "[cli][errors]") {
  expect_error("--no-such-flag", "no-such-flag");
  expect_error("--norm gbn -b 64 -g 128 -o " + (dir() / "x").string(), "ghost_batch_size = 128");
  expect_error("--lr -0.5", "lr = -0.5");
  expect_error("-m lenet", "model = lenet");
  expect_error("--lr-scaling cubic", "lr_scaling = cubic");
  expect_error("--config " + write("unknown.json", R"({"batchsize": 3})"), "batchsize = 3");
  expect_error("--config " + write("broken.json", R"({"batch_size": )"), "malformed JSON");
  expect_error("-d cifar10 --data-dir " + (dir() / "empty").string() + " -o " + (dir() / "y").string(), "CIFAR-10 not found");
}

namespace {
const std::string kTiny = "-m f1 -d synthetic --synthetic-size 256 -b 64 --device cpu --no-progress ";
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
}  // namespace

TEST_CASE("a full disk stops training with a clear error and leaves the previous files whole", "[cli][errors]") {
  const fs::path out = dir() / "full";
  fs::remove_all(out);
  REQUIRE(run(kTiny + "-e 1 -o " + out.string()).code == 0);
  const std::string config = slurp(out / "config.json"), metrics = slurp(out / "metrics.csv"), ckpt = slurp(out / "checkpoint.pt");
  // A file-size limit of 512 bytes (for any user, unlike a small tmpfs) makes every larger write fail
  // with EFBIG, as a full disk fails with ENOSPC; SIGXFSZ is ignored so that write() returns the error.
  const std::string limited = "trap '' XFSZ; prlimit --fsize=512:512 " + std::string(GENGAP_TRAIN_EXE);
  const auto o = gengap::testing::run_tool(limited, kTiny + "-e 2 --resume -o " + out.string(), dir());
  INFO(o.err);
  CHECK(o.code == 1);
  CHECK(o.err.find("cannot write " + (out / "config.json").string()) != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  CHECK(slurp(out / "config.json") == config);  // not replaced by an empty file
  CHECK(slurp(out / "metrics.csv") == metrics);
  CHECK(slurp(out / "checkpoint.pt") == ckpt);
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().string().find(".tmp") == std::string::npos);
  // With room for config.json but not for a checkpoint: the same, one step later.
  const std::string mid = "trap '' XFSZ; prlimit --fsize=65536:65536 " + std::string(GENGAP_TRAIN_EXE);
  const auto o2 = gengap::testing::run_tool(mid, kTiny + "-e 2 --resume -o " + out.string(), dir());
  CHECK(o2.code == 1);
  CHECK(o2.err.find("cannot write " + (out / "checkpoint.pt").string()) != std::string::npos);
  CHECK(slurp(out / "checkpoint.pt") == ckpt);
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().string().find(".tmp") == std::string::npos);
}

TEST_CASE("resume refuses a checkpoint that does not match, is damaged or missing, and writes nothing", "[cli][errors]") {
  const fs::path out = dir() / "resume";
  fs::remove_all(out);
  REQUIRE(run(kTiny + "-e 1 -o " + out.string()).code == 0);
  const std::string config = slurp(out / "config.json"), ckpt = slurp(out / "checkpoint.pt");
  expect_error("-m f1 -d synthetic --synthetic-size 256 -b 32 --device cpu --no-progress -e 2 --resume -o " + out.string(),
               "batch_size 64 in the checkpoint, 32 now");
  expect_error(kTiny + "-e 2 --resume --norm gbn -g 32 -o " + out.string(), "norm \"bn\" in the checkpoint, \"gbn\" now");
  expect_error("-m c1 -d synthetic --synthetic-size 256 -b 64 --device cpu --no-progress -e 2 --resume -o " + out.string(),
               "model \"f1\" in the checkpoint, \"c1\" now");
  CHECK(slurp(out / "config.json") == config);  // nothing was written
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"truncated", ckpt.substr(0, ckpt.size() / 2)}, {"empty", ""}, {"garbage", std::string(5000, '\x42')}}) {
    INFO(name);
    std::ofstream(out / "checkpoint.pt", std::ios::binary) << bytes;
    expect_error(kTiny + "-e 2 --resume -o " + out.string(), "checkpoint = " + (out / "checkpoint.pt").string());
    CHECK(slurp(out / "config.json") == config);
  }
  const fs::path none = dir() / "resume_none";
  fs::remove_all(none);
  expect_error(kTiny + "-e 2 --resume -o " + none.string(), "there is no checkpoint to resume from");
  CHECK_FALSE(fs::exists(none));
}

TEST_CASE("mistyped values and damaged data files end in one line naming the field or file", "[cli][errors]") {
  expect_error("--device cudaXYZ", "device = cudaXYZ: expected auto, cpu, cuda or cuda:N");
  expect_error("-e inf", "--epochs: must be a finite number");
  expect_error(kTiny + "-e 1e300", "epochs = 1e+300");
  expect_error("-s -1", "--seed: must not be negative");
  expect_error("--config " + write("frac.json", R"({"batch_size": 10.7})"), "batch_size = 10.7: expected an integer");
  expect_error("--config " + write("dup.json", R"({"batch_size": 64, "batch_size": 32})"), "batch_size = (given twice)");
  expect_error("--config " + write("seed.json", R"({"seed": -1})"), "seed = -1: expected an integer in [0,");
  expect_error("--config " + dir().string(), "is a folder");
  // IDX files written here: a label out of range, test images of another size, a header whose
  // dimensions overflow, a gzip file without its trailer.
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  auto images = [&](std::uint32_t n, std::uint32_t side) { return be32(0x803) + be32(n) + be32(side) + be32(side) + std::string(n * side * side, '\0'); };
  auto labels = [&](std::uint32_t n, unsigned char last) {
    std::string l(n, '\x01');
    l.back() = static_cast<char>(last);
    return be32(0x801) + be32(n) + l;
  };
  auto data = [&](const std::string& name, const std::string& ti, const std::string& tl, const std::string& vi) {
    const fs::path d = dir() / "idx" / name;
    fs::create_directories(d);
    std::ofstream(d / "train-images-idx3-ubyte", std::ios::binary) << ti;
    std::ofstream(d / "train-labels-idx1-ubyte", std::ios::binary) << tl;
    std::ofstream(d / "t10k-images-idx3-ubyte", std::ios::binary) << vi;
    std::ofstream(d / "t10k-labels-idx1-ubyte", std::ios::binary) << labels(8, 1);
    return "-m f1 -d mnist -b 32 -e 1 --device cpu --no-progress -o " + (dir() / "idx_out").string() + " --data-dir " + d.string();
  };
  expect_error(data("label", images(64, 28), labels(64, 200), images(8, 28)), "label 200 of sample 63 is out of range for 10 classes");
  expect_error(data("size", images(64, 28), labels(64, 1), images(8, 32)), "the test images are 1x32x32 but the training images are 1x28x28");
  expect_error(data("overflow", be32(0x803) + be32(0xffffffff) + be32(0xffffffff) + be32(0xffffffff), labels(64, 1), images(8, 28)),
               "image size 4294967295x4294967295 in the header");
  // gzip of "hello" without its 8-byte trailer (CRC and length).
  const std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07\x00", 17);
  const fs::path gzdir = dir() / "idx" / "gz";
  fs::create_directories(gzdir);
  std::ofstream(gzdir / "train-images-idx3-ubyte.gz", std::ios::binary) << gz;
  expect_error("-m f1 -d mnist -b 32 -e 1 --device cpu -o " + (dir() / "idx_out").string() + " --data-dir " + gzdir.string(),
               "truncated gzip data");
}

TEST_CASE("gengap-train runs OpenBLAS's AVX2 kernels where OpenBLAS fell back to generic ones, and keeps a user's choice", "[cli][blas]") {
  // OpenBLAS 0.3.21 runs its generic Prescott kernels on processors it does not know (Intel Emerald
  // Rapids), about 3x slower for F1. gengap-train re-executes itself with OPENBLAS_CORETYPE=Haswell
  // there, on a processor with AVX2 and FMA; a value the user set is left alone.
  auto blas_of = [&](const std::string& env, const std::string& name) {
    const std::string out = (dir() / name).string();
    fs::remove_all(out);
    const std::string cmd = env + " " + GENGAP_TRAIN_EXE + " --dataset synthetic --synthetic-size 256 -b 64 --epochs 1 --no-progress --device cpu -o " +
                            out + " > /dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(fs::path(out) / "summary.json");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto k = text.find("\"blas\": \"");
    REQUIRE(k != std::string::npos);
    return text.substr(k + 9, text.find('"', k + 9) - k - 9);
  };
  const std::string chosen = blas_of("env -u OPENBLAS_CORETYPE", "blas_auto");
  if (chosen.empty()) return;  // not OpenBLAS: nothing to choose
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) CHECK(!gengap::core::is_generic_blas_kernel(chosen));
  CHECK(blas_of("OPENBLAS_CORETYPE=Prescott", "blas_user") == "Prescott");
}
