// The training experiments in a build without LibTorch (GENGAP_BUILD_TRAIN=OFF): listed as skipped.
#include "gengap/repro/experiment.hpp"

namespace gengap::repro {

bool training_available() { return false; }

nlohmann::json run_train_table(const Context&) {
  throw Skipped("this gengap-repro was built without LibTorch (GENGAP_BUILD_TRAIN=OFF)");
}

nlohmann::json run_weight_distance(const Context&) {
  throw Skipped("this gengap-repro was built without LibTorch (GENGAP_BUILD_TRAIN=OFF)");
}

}  // namespace gengap::repro
