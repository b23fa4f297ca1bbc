// The logs of a training run, written from the recorded rows with the column names of run_log.hpp.
#include "gengap/train/run_log.hpp"

#include <cstdint>
#include <sstream>

#include <nlohmann/json.hpp>

namespace gengap::train::run_log {
using nlohmann::json;

std::string distance_csv(const json& rows) {
  std::ostringstream csv;
  csv << kIteration << ',' << kEpoch << ',' << kLoss << ',' << kDistance << ',' << kProbeLossDelta << ',' << kGradNorm << ','
      << kClipped << '\n';
  for (const auto& r : rows)
    csv << r[kIteration].get<int64_t>() << ',' << r[kEpoch].get<double>() << ',' << r[kLoss].get<double>() << ','
        << r[kDistance].get<double>() << ',' << r[kProbeLossDelta].get<double>() << ',' << r[kGradNorm].get<double>() << ','
        << r[kClipped].get<int64_t>() << '\n';
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

std::string metrics_jsonl(const json& epochs) {
  std::ostringstream jl;
  for (const auto& m : epochs) jl << m.dump() << '\n';
  return jl.str();
}

}  // namespace gengap::train::run_log
