// gengap-sim as a user runs it: outputs, and every bad input ends with a one-line error and exit 2.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../common/cli_run.hpp"

namespace {
namespace fs = std::filesystem;
using gengap::testing::Outcome;

fs::path tmp_dir() { return gengap::testing::scratch("cli"); }
Outcome run(const std::string& args) { return gengap::testing::run_tool(GENGAP_SIM_EXE, args, tmp_dir()); }
std::string write(const std::string& name, const std::string& text) { return gengap::testing::write_text(tmp_dir(), name, text); }
void expect_error(const std::string& args, const std::string& needle) {
  gengap::testing::expect_error(GENGAP_SIM_EXE, args, tmp_dir(), needle);
}
}  // namespace

TEST_CASE("gengap-sim walk writes JSON and CSV with the documented fields", "[cli]") {
  const std::string j = (tmp_dir() / "walk.json").string(), c = (tmp_dir() / "walk.csv").string();
  const Outcome o = run("walk -e 50 -w 2 -t 2000 --positions -q --json " + j + " --csv " + c);
  REQUIRE(o.code == 0);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  for (const char* key : {"parameters", "sigma2", "times", "msd", "mean_abs", "mean_x", "quantiles", "positions", "fit"})
    CHECK(doc.contains(key));
  CHECK(doc["sigma2"].get<double>() == 1.0);
  CHECK(doc["positions"].size() == 100);
  CHECK(doc["times"].back().get<int>() == 2000);
  std::ifstream csv(c);
  std::string header;
  std::getline(csv, header);
  CHECK(header.rfind("t,mean_x,msd,mean_abs", 0) == 0);
}

TEST_CASE("gengap-sim walk takes a JSON config, and flags override it", "[cli]") {
  const std::string cfg = write("cfg.json", R"({"potential": "fbm", "alpha": 1.5, "environments": 20, "t_max": 500, "temperature": 2})");
  const std::string j = (tmp_dir() / "cfg_out.json").string();
  REQUIRE(run("walk --config " + cfg + " -e 10 -q --json " + j).code == 0);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["parameters"]["environments"].get<int>() == 10);
  CHECK(doc["parameters"]["potential"]["alpha"].get<double>() == 1.5);
  CHECK(doc["sigma2"].get<double>() == Approx(0.25));
}

TEST_CASE("gengap-sim walk --simd: every path writes the same numbers and names itself", "[cli][simd]") {
  std::string first;
  for (const char* path : {"scalar", "auto"}) {
    const std::string j = (tmp_dir() / (std::string("simd_") + path + ".json")).string();
    REQUIRE(run(std::string("walk -e 40 -w 3 -t 3001 --bootstrap 0 -q --simd ") + path + " --json " + j).code == 0);
    std::ifstream in(j);
    const auto doc = nlohmann::json::parse(in);
    CHECK(doc["stats"]["simd"].get<std::string>() != "auto");
    if (std::string(path) == "scalar") CHECK(doc["stats"]["simd"].get<std::string>() == "scalar");
    const std::string msd = doc["msd"].dump() + doc["quantiles"].dump();
    if (first.empty()) first = msd; else CHECK(msd == first);
  }
}

TEST_CASE("gengap-sim valley writes the bottoms", "[cli]") {
  const std::string j = (tmp_dir() / "valley.json").string();
  REQUIRE(run("valley --gamma 5 --samples 30 --sigma 1 --seed 3 --json " + j).code == 0);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["bottoms"].size() == 30);
  CHECK(doc["parameters"]["gamma"].get<double>() == 5);
  CHECK(doc["scaled"].contains("ks_distance"));
}

TEST_CASE("gengap-sim fit reads a CSV and prefers the power law for sqrt(t)", "[cli]") {
  std::string text = "t,d\n";
  for (int i = 1; i <= 30; ++i) text += std::to_string(i * 100) + "," + std::to_string(std::sqrt(i * 100.0)) + "\n";
  const std::string csv = write("sqrt.csv", text), j = (tmp_dir() / "fit.json").string();
  REQUIRE(run("fit " + csv + " --json " + j).code == 0);
  std::ifstream in(j);
  CHECK(nlohmann::json::parse(in)["preferred"] == "power");
}

TEST_CASE("gengap-sim sgd runs the batch-size experiment in silico: curves, fits, overlap", "[cli][sgd]") {
  const std::string j = (tmp_dir() / "sgd.json").string(), c = (tmp_dir() / "sgd.csv").string();
  REQUIRE(run("sgd --dim 16 --modes 64 -e 3 -w 2 -t 300 -B 16,64 --small-batch 16 --json " + j + " --csv " + c).code == 0);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  REQUIRE(doc["batches"].size() == 2);
  // sqrt scaling: lr x sqrt(64/16) = 2 lr
  CHECK(doc["batches"][1]["lr"].get<double>() == Approx(2 * doc["batches"][0]["lr"].get<double>()));
  CHECK(doc["batches"][0]["fits"].size() == 3);  // A (ln t - c)^k free and fixed, a + C t^beta, with intervals
  CHECK(doc["batches"][0]["result"]["times"].back().get<int>() == 300);
  CHECK(doc["overlap"].contains("iterations"));
  CHECK(doc["overlap"].contains("epochs"));
  std::ifstream csv(c);
  std::string header;
  std::getline(csv, header);
  CHECK(header == "batch,t,epoch,distance");
  expect_error("sgd --alpha 2.5 -t 100", "alpha = 2.5");
  expect_error("sgd --lr-scaling linear -t 100", "lr_scaling = linear");
}

TEST_CASE("gengap-sim exact prints the convergence to Kesten's 61/45 and writes JSON and CSV", "[cli][exact]") {
  const std::string j = (tmp_dir() / "exact.json").string(), c = (tmp_dir() / "exact.csv").string();
  const Outcome o = run("exact --sigma 6 -e 4 --octaves 30 --valley-samples 200 --fit-from 10 -q --json " + j + " --csv " + c);
  REQUIRE(o.code == 0);
  CHECK(o.err.find("sigma^4 <x^2> / (ln t - c)^4") != std::string::npos);
  CHECK(o.err.find("sigma^4 A^4 = ") != std::string::npos);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["times"].back().get<double>() == std::ldexp(1.0, 30));
  CHECK(doc["sigma2"].get<double>() == 36.0);
  CHECK(doc["parameters"]["half_width"].get<int>() == 175);  // ceil(8 (30 ln 2 + 1.2 x 6)^2 / 36) = ceil(174.15)
  CHECK(doc["kesten"]["points"].size() > 10);
  CHECK(doc["stats"]["mass_defect"].get<double>() < 1e-12);
  std::ifstream csv(c);
  std::string header;
  std::getline(csv, header);
  CHECK(header == "t,ln_t,msd,msd_se,edge_mass,msd_cv,msd_cv_se,ratio,ratio_se,valley");
  expect_error("exact --octaves 70", "octaves = 70");
  expect_error("exact --sigma 0.1", "half_width =");
  expect_error("exact -e 1", "environments = 1");
}

TEST_CASE("gengap-sim lattice runs walkers in d = 1, 2 and reports exponents and the collapse", "[cli][lattice]") {
  const std::string j = (tmp_dir() / "lattice.json").string(), c = (tmp_dir() / "lattice.csv").string();
  const Outcome o = run("lattice --dims 1,2 --boxes 1024,128 --sigma 3 -T 1,0.75 -e 3 -w 4 -t 3000 --fit-tmin 30 -q --json " + j +
                        " --csv " + c);
  REQUIRE(o.code == 0);
  CHECK(o.err.find("fitted exponent k") != std::string::npos);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  REQUIRE(doc["runs"].size() == 4);
  REQUIRE(doc["by_dim"].size() == 2);
  CHECK(doc["by_dim"][1]["dim"].get<int>() == 2);
  CHECK(doc["by_dim"][0]["collapse"].contains("spread"));
  CHECK(doc["runs"][3]["times"].back().get<int>() == 3000);
  std::ifstream csv(c);
  std::string header;
  std::getline(csv, header);
  CHECK(header == "dim,temperature,t,x,msd");
  expect_error("lattice --dims 2 --boxes 100", "box = 100");
  expect_error("lattice --dims 1,2 --boxes 64", "boxes = 1");
  expect_error("lattice --dims 4 --boxes 64", "dim = 4");
}

TEST_CASE("gengap-sim collapse: curves that depend on T ln t / s only collapse, against ln t they do not", "[cli][collapse]") {
  // <x^2> = (T ln t / s)^4 exactly, for s = 2 and s = 3 (T = 1) and for T = 0.5, s = 1.
  std::vector<std::string> files;
  for (const auto& [temp, s] : std::vector<std::pair<double, double>>{{1.0, 2.0}, {1.0, 3.0}, {0.5, 1.0}}) {
    nlohmann::json j;
    j["parameters"] = {{"temperature", temp}, {"potential", {{"name", "sinai-gaussian"}, {"sigma", s}}}};
    std::vector<double> t, y;
    for (int k = 10; k <= 400; ++k) {  // dense: the overlap interpolates linearly between points
      t.push_back(std::exp2(k / 10.0));
      y.push_back(std::pow(temp * (k / 10.0) * std::log(2.0) / s, 4));
    }
    j["times"] = t;
    j["msd"] = y;
    files.push_back(write("collapse_" + std::to_string(files.size()) + ".json", j.dump()));
  }
  const std::string out = (tmp_dir() / "collapse_out.json").string();
  REQUIRE(run("collapse " + files[0] + " " + files[1] + " " + files[2] + " --json " + out).code == 0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["spread"].get<double>() < 1e-3);
  CHECK(doc["spread_against_ln_t"].get<double>() > 0.3);
  CHECK(doc["runs"].size() == 3);
  expect_error("collapse " + files[0], "files = 1");
  expect_error("collapse " + files[0] + " " + write("bad.json", "{\"times\": [1]}"), "expected the JSON of gengap-sim walk or exact");
}

TEST_CASE("bad input: one-line error naming the field, exit code 2", "[cli][errors]") {
  expect_error("walk --potential fbm --alpha 2.5 -q", "alpha = 2.5");
  expect_error("walk --potential fbm --alpha 0 -q", "alpha = 0");
  expect_error("walk -T 0 -q", "temperature = 0");
  expect_error("walk -T -1 -q", "temperature = -1");
  expect_error("walk -w 0 -q", "walkers = 0");
  expect_error("walk -e 0 -q", "environments = 0");
  expect_error("walk --dynamics glauber -q", "dynamics = glauber");
  expect_error("walk --simd sse4 -q", "simd = sse4");
  expect_error("walk --potential levy -q", "potential = levy");
  expect_error("walk --config " + write("unknown.json", R"({"walkers": 3, "temprature": 1})"), "temprature");
  expect_error("walk --config " + write("bad.json", R"({"walkers": 3,)"), "malformed JSON");
  expect_error("walk --config " + write("type.json", R"({"walkers": "many"})"), "walkers = \"many\"");
  expect_error("walk --config /nonexistent/cfg.json", "cannot open");
  expect_error("walk --no-such-flag", "no-such-flag");
  expect_error("valley --gamma -2", "gamma = -2");
  expect_error("valley --samples 0", "samples = 0");
  expect_error("fit /nonexistent.csv", "cannot open");
  expect_error("fit " + write("garbage.csv", "t,d\n1,2\nx,y\n"), "expected comma-separated numbers");
  expect_error("", "subcommand");
}

TEST_CASE("hostile input is refused before any work: sizes beyond memory, bad outputs, mistyped values", "[cli][errors]") {
  // Sizes the machine cannot hold: refused up front with the field, the value and the estimate.
  expect_error("walk --half-width 1000000000 --max-half-width 1000000000 -q", "half_width = 1000000000: needs about");
  expect_error("walk -e 4000000000 -t 10 -q", "environments = 4000000000");
  expect_error("sgd --dim 1000000000", "modes = 1024 (dim 1000000000): needs about");
  expect_error("sgd -t 10000000000000000000", "t_max = 10000000000000000000: with these sizes the run needs about");
  expect_error("valley -g 1e300", "gamma = 1e+300: a valley this deep needs a window");
  expect_error("valley -n 4000000000", "samples = 4000000000");
  expect_error("exact --valley-samples 4000000000", "valley_samples = 4000000000");
  expect_error("walk --per-decade 1000000000 -q", "per_decade = 1000000000");
  // Outputs that cannot be written are found before the computation.
  expect_error("walk -e 2 -t 10 -q --json " + tmp_dir().string(), "json = " + tmp_dir().string() + ": is a folder");
  expect_error("walk -e 2 -t 10 -q --csv " + write("plain", "x") + "/out.csv", "csv = ");
  // Mistyped values, on the command line and in configs.
  expect_error("walk -s -1 -q", "--seed: must not be negative");
  expect_error("fit x.csv --tmin nan", "--tmin: must be a finite number");
  expect_error("walk --fit-tmin inf -q", "--fit-tmin: must be a finite number");
  expect_error("walk --config " + write("frac.json", R"({"environments": 10.7})"), "environments = 10.7: expected an integer");
  expect_error("walk --config " + write("neg.json", R"({"seed": -1})"), "seed = -1: expected an integer in [0,");
  expect_error("walk --config " + write("dup.json", R"({"walkers": 2, "walkers": 3})"), "walkers = (given twice): duplicate key");
  expect_error("lattice --config " + write("dims.json", R"({"dims": [1.9]})"), "dims[0] = 1.9");
  expect_error("walk --config " + write("huge.json", R"({"environments": 1e30})"), "environments = 1e+30");
  expect_error("walk --config " + write("over.json", R"({"temperature": 1e400})"), "malformed JSON");
  expect_error("walk --config " + tmp_dir().string(), "is a folder");
  // Long and binary values are cut and escaped in the one-line message.
  const Outcome big = run("walk --dynamics " + std::string(100000, 'x') + " -q");
  CHECK(big.code == 2);
  CHECK(big.err.size() < 600);
  CHECK(big.err.find("(100000 bytes)") != std::string::npos);
  expect_error("walk --config " + write("bin.json", R"({"dynamics": "a\u0001\u007f"})"), "dynamics = a\\x01\\x7f");
  expect_error("walk --config " + write("raw.json", std::string("{\"dynamics\": \"a\x01\xfe\"}")), "malformed JSON");
  // collapse: a result whose msd is shorter than its times (was a segmentation fault).
  nlohmann::json j;
  j["parameters"] = {{"temperature", 1.0}, {"potential", {{"sigma", 2.0}}}};
  j["times"] = {2, 4, 8, 16};
  j["msd"] = {1, 2};
  const std::string shorter = write("shorter.json", j.dump());
  j["msd"] = {1, 2, 3, 4};
  const std::string good = write("good.json", j.dump());
  expect_error("collapse " + good + " " + shorter, "msd = 2 values: must have one value per time (4 times)");
  j["msd"] = {1, "x", 3, 4};
  expect_error("collapse " + good + " " + write("typed.json", j.dump()), "msd[1] = \"x\": expected a number");
  j["parameters"]["temperature"] = "hot";
  expect_error("collapse " + good + " " + write("temp.json", j.dump()), "parameters.temperature = \"hot\"");
}

TEST_CASE("gengap-sim fit --claim log-time decides on a user's runs and writes the verdict", "[cli][claims]") {
  // Four runs of 2 + 3 ln t and of 5 + 0.8 sqrt(t) (0.05% noise) on [100, 3750].
  std::ostringstream log_csv, sqrt_csv;
  log_csv << "t,r1,r2,r3,r4\n";
  sqrt_csv << "t,r1,r2,r3,r4\n";
  for (int i = 0; i <= 30; ++i) {
    const double t = 100 * std::pow(37.5, i / 30.0);
    log_csv << t;
    sqrt_csv << t;
    for (int r = 0; r < 4; ++r) {
      const double wiggle = 1 + 0.0005 * std::sin(3.0 * i + r);
      log_csv << ',' << (2 + 3 * std::log(t)) * wiggle;
      sqrt_csv << ',' << (5 + 0.8 * std::sqrt(t)) * wiggle;
    }
    log_csv << '\n';
    sqrt_csv << '\n';
  }
  const std::string out = (tmp_dir() / "claim.json").string();
  REQUIRE(run("fit " + write("claim_log.csv", log_csv.str()) + " --samples --claim log-time --json " + out).code == 0);
  {
    std::ifstream in(out);
    const auto doc = nlohmann::json::parse(in);
    CHECK(doc["claim"]["name"] == "log-time");
    CHECK(doc["claim"]["verdict"] == "supported");
    CHECK(doc["claim"]["reason"].get<std::string>().rfind("d grows like A (ln t - c)^k", 0) == 0);
    CHECK(doc["claim"]["statistic"]["k_implied"].get<double>() == Approx(1).margin(0.05));
    CHECK(doc["claim"]["statistic"].contains("mean"));
  }
  REQUIRE(run("fit " + write("claim_sqrt.csv", sqrt_csv.str()) + " --samples --claim log-time --tmin 100 --tmax 3750 --json " + out).code == 0);
  {
    std::ifstream in(out);
    CHECK(nlohmann::json::parse(in)["claim"]["verdict"] == "falsified");
  }
  // A window too short is undecided, not a pass.
  REQUIRE(run("fit " + write("claim_short.csv", log_csv.str()) + " --samples --claim log-time --tmax 1000 --json " + out).code == 0);
  {
    std::ifstream in(out);
    CHECK(nlohmann::json::parse(in)["claim"]["verdict"] == "undecided");
  }
  expect_error("fit " + write("claim_one.csv", log_csv.str()) + " --claim log-time", "claim = log-time: needs --samples");
  expect_error("fit " + write("claim_k.csv", log_csv.str()) + " --samples --claim log-time --k-max 0.2", "k_max = 0.2");
  expect_error("fit " + write("claim_kmin.csv", log_csv.str()) + " --samples --claim log-time --k-min 0", "k_min = 0");
  // The case the old rule left undecided while quoting q = 0.0017 [-0.044, 0.048]: 4 runs of
  // 1 + 2 ln t on t = 100 ... 5000 with noise of sd 0.1 (absolute). A law in ln t: supported.
  std::ostringstream noisy;
  noisy << "t,r1,r2,r3,r4\n";
  for (int i = 0; i <= 34; ++i) {
    const double t = 100 * std::pow(50.0, i / 34.0);
    noisy << t;
    for (int r = 0; r < 4; ++r) noisy << ',' << 1 + 2 * std::log(t) + 0.1 * std::sin(7.3 * i + 2.1 * r) * std::sqrt(2.0);
    noisy << '\n';
  }
  REQUIRE(run("fit " + write("claim_noisy.csv", noisy.str()) + " --samples --claim log-time --json " + out).code == 0);
  {
    std::ifstream in(out);
    const auto doc = nlohmann::json::parse(in);
    INFO(doc["claim"]["reason"].get<std::string>());
    CHECK(doc["claim"]["verdict"] == "supported");
  }
  expect_error("fit " + write("claim_bad.csv", log_csv.str()) + " --samples --claim sqrt-time", "claim = sqrt-time: expected log-time");
}

TEST_CASE("gengap-sim power counts the log-time rule's outcomes on control families", "[cli][claims]") {
  const std::string j = (tmp_dir() / "power.json").string(), c = (tmp_dir() / "power.csv").string();
  const Outcome o = run("power --tmin 100 --tmax 3750 --runs 4 --draws 20 --json " + j + " --csv " + c);
  REQUIRE(o.code == 0);
  std::ifstream in(j);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["parameters"]["runs"] == 4);
  CHECK(doc["parameters"]["rule"]["k_max"] == 8);
  bool saw_law = false, saw_power = false;
  for (const auto& f : doc["families"]) {
    CHECK(f["supported"].get<int>() + f["falsified"].get<int>() + f["undecided"].get<int>() == 20);
    if (f["family"] == "0.5 (ln t)^2") {
      saw_law = true;
      CHECK(f["in_claim"] == true);
      CHECK(f["supported"].get<int>() >= 18);
    }
    if (f["family"] == "t^0.5") {
      saw_power = true;
      CHECK(f["in_claim"] == false);
      CHECK(f["falsified"].get<int>() >= 18);
    }
  }
  CHECK(saw_law);
  CHECK(saw_power);
  std::ifstream csv(c);
  std::string header;
  std::getline(csv, header);
  CHECK(header == "family,kind,in_claim,supported,falsified,undecided,draws,median_w");
  expect_error("power --tmin 100 --tmax 50", "tmax = 50");
  expect_error("power --runs 1", "runs = 1");
  expect_error("power --shape-sd 0.7", "shape_sd = 0.7");
  expect_error("power --claim overlap", "claim = overlap");
  expect_error("power --k-min 9", "k_max = 8");
  expect_error("power --json " + j + " --csv " + j, "is the same file as --json");
}
