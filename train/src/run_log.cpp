// The logs of a training run, written from the recorded rows with the column names of run_log.hpp.
#include "gengap/train/run_log.hpp"

#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

namespace gengap::train::run_log {
using nlohmann::json;

std::string distance_csv(const json& rows) {
  std::ostringstream csv;
  csv << kIteration << ',' << kEpoch << ',' << kLoss << ',' << kDistance << ',' << kProbeLossDelta << ',' << kProbeTestLossDelta << ','
      << kGradNorm << ',' << kClipped << '\n';
  for (const auto& r : rows)
    csv << r[kIteration].get<int64_t>() << ',' << r[kEpoch].get<double>() << ',' << r[kLoss].get<double>() << ','
        << r[kDistance].get<double>() << ',' << r[kProbeLossDelta].get<double>() << ',' << r[kProbeTestLossDelta].get<double>() << ','
        << r[kGradNorm].get<double>() << ',' << r[kClipped].get<int64_t>() << '\n';
  return csv.str();
}

std::string layers_jsonl(const json& rows) {
  std::ostringstream lay;
  for (const auto& r : rows) lay << json{{kIteration, r[kIteration]}, {"layers", r["layers"]}, {"weights", r["weights"]}}.dump() << '\n';
  return lay.str();
}

std::string metrics_csv(const json& epochs) {
  std::ostringstream mcsv;
  mcsv << kEpoch << ',' << kIteration << ',' << kLr << ',' << kTrainLoss << ',' << kTestLoss << ',' << kTestAccuracy << ','
       << kDistance << ',' << kSeconds << '\n';
  for (const auto& m : epochs)
    mcsv << m[kEpoch].get<double>() << ',' << m[kIteration].get<int64_t>() << ',' << m[kLr].get<double>() << ','
         << m[kTrainLoss].get<double>() << ',' << m[kTestLoss].get<double>() << ',' << m[kTestAccuracy].get<double>() << ','
         << m[kDistance].get<double>() << ',' << m[kSeconds].get<double>() << '\n';
  return mcsv.str();
}

bool noise_due(long long t) {
  if (t < 1) return false;
  if (t <= 10) return true;
  // The tenth of a decade t falls in, against t - 1's.
  const auto slot = [](long long v) { return static_cast<long long>(std::floor(10 * std::log10(static_cast<double>(v)) + 1e-9)); };
  return slot(t) != slot(t - 1);
}

std::string snapshot_file(long long t) { return "w_" + std::to_string(t) + ".pt"; }

std::string noise_csv(const json& rows) {
  std::ostringstream csv;
  csv << std::setprecision(10) << kIteration << ',' << kEpoch << ',' << kTrace << ',' << kGradSq << ',' << kBSimple << ',' << kGroupSize << ','
      << kGroups << '\n';
  for (const auto& r : rows) {
    // A ratio that is undefined (|G|^2 estimated <= 0: noise dominates) is written as -1.
    const double b = r.contains(kBSimple) && r.at(kBSimple).is_number() ? r.at(kBSimple).get<double>() : -1.0;
    csv << r[kIteration].get<int64_t>() << ',' << r[kEpoch].get<double>() << ',' << r[kTrace].get<double>() << ',' << r[kGradSq].get<double>() << ','
        << b << ',' << r[kGroupSize].get<int64_t>() << ',' << r[kGroups].get<int64_t>() << '\n';
  }
  return csv.str();
}

std::string metrics_jsonl(const json& epochs) {
  std::ostringstream jl;
  for (const auto& m : epochs) jl << m.dump() << '\n';
  return jl.str();
}

}  // namespace gengap::train::run_log
