// gengap-sim valley: Golosov's valley bottom b_Gamma sampled from the potential alone.
#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct ValleyParams {
  PotentialParams pot;
  double gamma = 10;
  std::int64_t samples = 1000;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string json_out;
  std::string shard;
};

void validate(const ValleyParams& v) {
  const auto pot = potential_of(v.pot);
  require(v.samples >= 1 && v.samples <= 0xFFFFFFFFll, "samples", v.samples, "must be in [1, 2^32)");
  require(v.threads >= 0, "threads", v.threads, "must be >= 0");
  const ShardSpec spec = parse_shard(v.shard);
  check_shard_request(spec, static_cast<std::uint64_t>(v.samples), "samples", "");
  const auto [begin, end] = shard_range(spec, static_cast<std::uint32_t>(v.samples));
  check_valley_request(*pot, v.gamma, end - begin, static_cast<unsigned>(v.threads));
  core::check_output_file("json", v.json_out);
}

/// The result document (what the CLI writes as JSON).
json document(const ValleyParams& v, const std::vector<std::int64_t>& b) {
  const auto pot = potential_of(v.pot);
  json pj;
  pot->to_json(pj);
  json j;
  j["parameters"] = {{"potential", pj}, {"gamma", v.gamma}, {"samples", v.samples}, {"seed", v.seed}};
  j["bottoms"] = b;
  const double s2 = pot->increment_variance();
  const double scale = std::pow(s2, 1 / pot->alpha()) / std::pow(v.gamma, 2 / pot->alpha());
  std::vector<double> scaled(b.size());
  double m1 = 0, m2 = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    scaled[i] = scale * static_cast<double>(b[i]);
    m1 += std::abs(scaled[i]);
    m2 += scaled[i] * scaled[i];
  }
  m1 /= static_cast<double>(b.size());
  m2 /= static_cast<double>(b.size());
  json st = {{"what", "b = sigma^(2/alpha) b_Gamma / Gamma^(2/alpha)"}, {"mean_abs", m1}, {"second_moment", m2}};
  if (pot->alpha() == 1.0) {
    const double d = ks_distance(scaled, kesten_cdf);
    st["kesten_mean_abs"] = kKestenMeanAbs;
    st["kesten_second_moment"] = kKestenSecondMoment;
    st["ks_distance"] = d;
    st["ks_critical_1pct"] = 1.628 / std::sqrt(static_cast<double>(b.size()));
  }
  j["scaled"] = st;
  return j;
}

json document(const ValleyParams& v) {
  const auto pot = potential_of(v.pot);
  return document(v, sample_valley_bottoms(*pot, v.gamma, static_cast<std::uint32_t>(v.samples), v.seed, static_cast<unsigned>(v.threads)));
}

ShardData shard_data(const ValleyParams& v) {
  const auto pot = potential_of(v.pot);
  const auto [begin, end] = shard_range(parse_shard(v.shard), static_cast<std::uint32_t>(v.samples));
  return {json{{"bottoms", encode_array(sample_valley_bottoms_range(*pot, v.gamma, begin, end, v.seed, static_cast<unsigned>(v.threads)))}},
          begin, end};
}

/// Every sample's bottom from checked shards, in sample order.
std::vector<std::int64_t> merged(const ValleyParams& v, const ShardSet& set) {
  require_shard_ranges(set, static_cast<std::uint32_t>(v.samples), "samples");
  std::vector<std::int64_t> b;
  for (std::size_t k = 0; k < set.data.size(); ++k) {
    require(set.data[k].contains("bottoms"), set.names[k], "data", "lacks bottoms (damaged or not a valley shard)");
    const auto part = decode_int64(set.data[k]["bottoms"], set.names[k] + ": data.bottoms", set.ranges[k].second - set.ranges[k].first);
    b.insert(b.end(), part.begin(), part.end());
  }
  return b;
}

int write(const ValleyParams& v, const json& j) {
  emit(v.json_out, j.dump(2) + "\n");
  const json& st = j["scaled"];
  std::cerr << "valley: " << j["bottoms"].size() << " bottoms; E|b| = " << st["mean_abs"].get<double>()
            << ", E b^2 = " << st["second_moment"].get<double>();
  if (st.contains("ks_distance")) std::cerr << " (Kesten: 5/6, 61/45); KS distance " << st["ks_distance"].get<double>();
  std::cerr << '\n';
  return 0;
}

}  // namespace

Command valley_command() {
  return {"valley", "sample Golosov's valley bottom b_Gamma from the potential alone", [](cli::Options& o) {
            auto v = std::make_shared<ValleyParams>();
            add_potential_options(o, v->pot);
            o.add("-g,--gamma", "gamma", v->gamma, "valley depth Gamma = T ln t (energy units)");
            o.add("-n,--samples", "samples", v->samples, "number of independent potentials");
            o.add("-s,--seed", "seed", v->seed, "master seed (environment i is walk environment i)");
            o.add("-j,--threads", "threads", v->threads, "threads (0 = all)");
            o.add("--json", "json", v->json_out, "write results as JSON here (default: stdout)");
            // No progress: the valley bottoms take O(window) each (seconds for the largest requests).
            add_shard_option(o, v->shard);
            return Action{[v] { validate(*v); },
                          [v] { return write(*v, document(*v)); },
                          [v](const RunHooks&) { return document(*v); },
                          [v](const RunHooks&) { return shard_data(*v); },
                          [v](const ShardSet& set, const RunHooks&) { return document(*v, merged(*v, set)); },
                          [v](const ShardSet& set) { return write(*v, document(*v, merged(*v, set))); }};
          }};
}

}  // namespace gengap::sim::app
