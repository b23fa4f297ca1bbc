// gengap-train as a user runs it: a tiny run, and bad input ending with a one-line error, exit code 2.
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/cli_run.hpp"

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
