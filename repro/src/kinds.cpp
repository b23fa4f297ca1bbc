// The table of experiment kinds.
#include "gengap/repro/experiment.hpp"

namespace gengap::repro {

ExperimentKind sinai_kind();
ExperimentKind alpha_sweep_kind();
ExperimentKind sgd_batch_kind();
ExperimentKind train_table_kind();
ExperimentKind weight_distance_kind();

const std::vector<ExperimentKind>& experiment_kinds() {
  static const std::vector<ExperimentKind> all{sinai_kind(), alpha_sweep_kind(), sgd_batch_kind(), train_table_kind(),
                                               weight_distance_kind()};
  return all;
}

const ExperimentKind& experiment_kind(const std::string& name, const std::string& file) {
  std::string known;
  for (const auto& k : experiment_kinds()) {
    if (k.name == name) return k;
    known += (known.empty() ? "" : ", ") + k.name;
  }
  throw sim::InvalidArgument("kind", name, "expected one of " + known + " in " + file);
}

}  // namespace gengap::repro
