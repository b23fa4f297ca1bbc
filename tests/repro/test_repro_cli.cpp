// gengap-repro as a user runs it: every config of a run is checked before any experiment starts.
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

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
  c["claims"]["kesten_second_moment"]["tolerance_se_units"] = "4";
  expect_error(run + write("string_tol.json", c), "claims.kesten_second_moment.tolerance_se_units = \"4\": expected a number");
  c = config("sinai_validation");
  c["claims"]["kesten_second_moment"].erase("tolerance_se_units");
  expect_error(run + write("missing_tol.json", c), "claims.kesten_second_moment.tolerance_se_units = (missing): required field");
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
