// The training experiments in a build without LibTorch (GENGAP_BUILD_TRAIN=OFF): listed as skipped.
#include "gengap/repro/experiment.hpp"

namespace gengap::repro {
namespace {
nlohmann::json skipped(const Context&) { throw Skipped("this gengap-repro was built without LibTorch (GENGAP_BUILD_TRAIN=OFF)"); }
}  // namespace

bool training_available() { return false; }

int auto_jobs() { return 1; }

int train_worker(const std::filesystem::path&) { return 2; }

ExperimentKind train_table_kind() {
  return {"train_table", [](const Context&) {}, skipped};
}

ExperimentKind weight_distance_kind() {
  return {"weight_distance", [](const Context&) {}, skipped};
}

}  // namespace gengap::repro
