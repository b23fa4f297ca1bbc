// gengap-repro as a user runs it: every config of a run is checked before any experiment starts.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <thread>
#include <algorithm>

#include "../common/cli_run.hpp"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path dir() { return gengap::testing::scratch("repro_cli"); }
void expect_error(const std::string& args, const std::string& needle) {
  gengap::testing::expect_error(GENGAP_REPRO_EXE, args, dir(), needle);
}
json config(const std::string& name) {
  std::ifstream in(fs::path(GENGAP_REPRO_CONFIGS) / (name + ".json"));
  return json::parse(in);
}
std::string write(const std::string& name, const json& j) { return gengap::testing::write_text(dir(), name, j.dump(2)); }
}  // namespace

TEST_CASE("a bad field in any config of a repro run is refused before the first experiment runs", "[repro][errors]") {
  const fs::path out = dir() / "out";
  fs::remove_all(out);
  const std::string first = (fs::path(GENGAP_REPRO_CONFIGS) / "alpha_sweep.json").string();
  const std::string run = "--profile quick --out " + out.string() + " " + first + " ";
  json c = config("sinai_validation");
  c["claims"]["kesten_second_moment"]["relative_tolerance"] = "0.1";
  expect_error(run + write("string_tol.json", c), "claims.kesten_second_moment.relative_tolerance = \"0.1\": expected a number");
  c = config("sinai_validation");
  c["claims"]["kesten_second_moment"].erase("relative_tolerance");
  expect_error(run + write("missing_tol.json", c), "claims.kesten_second_moment.relative_tolerance = (missing): required field");
  c = config("sinai_validation");
  c["enviroments"] = 100;
  expect_error(run + write("typo.json", c), "enviroments = 100: unknown field");
  c = config("sgd_batch_insilico");
  c["claims"]["overlap"]["max_sprad"] = 0.1;
  expect_error(run + write("claim_typo.json", c), "claims.overlap.max_sprad = 0.1: unknown field");
  c = config("sinai_validation");
  c["profiles"]["quick"]["environments"] = 10.5;
  expect_error(run + write("frac.json", c), "environments = 10.5: expected an integer");
  c = config("sinai_validation");
  c["profiles"]["quick"]["environments"] = 4000000000u;
  expect_error(run + write("memory.json", c), "needs about");
  c = config("sgd_batch_insilico");
  c["kind"] = "sgd_batchh";
  expect_error(run + write("kind.json", c), "kind = sgd_batchh: expected one of");
  expect_error(run + dir().string(), "is a folder");
  // Nothing ran, and no output folder was made.
  CHECK_FALSE(fs::exists(out));
  std::ofstream(dir() / "plain") << "x";
  expect_error("--profile quick --out " + (dir() / "plain").string() + " " + first, "out = " + (dir() / "plain").string());
}

TEST_CASE("the training configs of a repro run are validated as the trainer would, before any run", "[repro][errors]") {
  if (std::string(GENGAP_REPRO_TRAIN) != "1") {
    WARN("built without LibTorch: the training experiments are skipped, not validated");
    return;
  }
  const fs::path out = dir() / "out_train";
  fs::remove_all(out);
  json c = config("weight_distance_f1");
  c["profiles"]["quick"]["batch_sizes"] = json::array({16, 32, 1});
  expect_error("--profile quick --out " + out.string() + " " + write("wd_batch.json", c), "batch_size = 1: must be >= 2");
  c = config("table1_f1");
  c["networks"][0]["modle"] = "f1";
  expect_error("--profile quick --out " + out.string() + " " + write("table_typo.json", c), "networks[0].modle = \"f1\": unknown field");
  c = config("weight_distance_f1");
  c["profiles"]["quick"]["device"] = "cudaXYZ";
  expect_error("--profile quick --out " + out.string() + " " + write("wd_device.json", c), "device = cudaXYZ");
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("jobs is checked (0 for auto, up to 1024) and a worker without its config is refused", "[repro][errors][jobs]") {
  if (std::string(GENGAP_REPRO_TRAIN) == "1") {
    fs::create_directories(dir() / "no_worker_config");
    expect_error("--train-worker " + (dir() / "no_worker_config").string(), "worker_config.json");
  }
  const std::string cfg = (fs::path(GENGAP_REPRO_CONFIGS) / "sinai_validation.json").string();
  expect_error("--profile quick --jobs -1 --out " + (dir() / "jobs_bad").string() + " " + cfg, "jobs = -1: expected 0 (auto) to 1024");
  expect_error("--profile quick --jobs 5000 --out " + (dir() / "jobs_bad").string() + " " + cfg, "jobs = 5000: expected 0 (auto) to 1024");
  CHECK_FALSE(fs::exists(dir() / "jobs_bad"));
}

#ifdef GENGAP_TRAIN_EXE
namespace {
std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("with jobs, every run trains in a worker process: the run's own config, trained alone with the workers' thread count",
          "[repro][jobs]") {
  // A small Table 1: five columns, one seed, 256 training samples.
  json c = config("table1_f1");
  c["profiles"]["quick"]["seeds"] = json::array({1});
  c["profiles"]["quick"]["train_subset"] = 256;
  c["profiles"]["quick"]["test_subset"] = 100;
  c["profiles"]["quick"]["extra_adapted_batches"] = json::array();
  c["alternative_lr_reference"] = 0;  // the five columns SB, LB, +LR, +GBN, +RA
  const std::string cfg = write("jobs_table.json", c);
  const fs::path out = dir() / "jobs_out";
  fs::remove_all(out);
  const std::string args = "--profile quick --jobs 2 --out " + out.string() + " " + cfg;
  const gengap::testing::Outcome first = gengap::testing::run_tool(GENGAP_REPRO_EXE, args, dir());
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK(first.err.find("5 runs, 2 at a time in worker processes") != std::string::npos);
  // Every run trained in a worker (its config and log are in its folder) and finished.
  const fs::path runs = out / "jobs_table" / "runs";
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(runs)) {
    names.insert(e.path().filename().string());
    CHECK(fs::exists(e.path() / "worker_config.json"));
    CHECK(fs::exists(e.path() / "worker.log"));
    CHECK(fs::exists(e.path() / "summary.json"));
  }
  CHECK(names.size() == 5);
  // Independently: the same config trained by gengap-train alone, with a worker's thread count
  // (cores / jobs), gives the same distances and noise records, bit for bit.
  const fs::path one = runs / *names.begin();
  const json wc = json::parse(read_all(one / "worker_config.json"));
  CHECK(wc.at("out_dir").get<std::string>() == one.string());
  CHECK_FALSE(wc.at("progress").get<bool>());
  const fs::path again = dir() / "jobs_alone";
  fs::remove_all(again);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string n = std::to_string(std::max(1u, cores / 2));
  const std::string env = "env OMP_NUM_THREADS=" + n + " OPENBLAS_NUM_THREADS=" + n + " MKL_NUM_THREADS=" + n + " ";
  const gengap::testing::Outcome alone =
      gengap::testing::run_tool(env + GENGAP_TRAIN_EXE, "--config " + (one / "worker_config.json").string() + " -o " + again.string(), dir());
  INFO(alone.err);
  REQUIRE(alone.code == 0);
  CHECK(read_all(again / "distance.csv") == read_all(one / "distance.csv"));
  CHECK(read_all(again / "noise.csv") == read_all(one / "noise.csv"));
  // A second invocation finds the experiment done.
  const gengap::testing::Outcome second = gengap::testing::run_tool(GENGAP_REPRO_EXE, args, dir());
  CHECK(second.code == 0);
  CHECK(second.err.find("up to date") != std::string::npos);
}
#endif
