// Runs split into parts (the library side of gengap-sim --shard / merge): the parts of N = 1, 2, 3
// and 7 combined give bitwise the whole run, for the walker, the exact solver (with Kesten's valley
// bottoms), the lattice walks and the valley sampler; parts that do not tile the run are refused.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/exact.hpp"
#include "gengap/sim/fbm.hpp"
#include "gengap/sim/lattice.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/theory.hpp"
#include "gengap/sim/times.hpp"

using namespace gengap::sim;

namespace {
/// Block k of n of `items`: [floor(k items / n), floor((k + 1) items / n)), as gengap-sim --shard.
std::pair<std::uint32_t, std::uint32_t> block(std::uint32_t k, std::uint32_t n, std::uint32_t items) {
  return {static_cast<std::uint32_t>(std::uint64_t{k} * items / n), static_cast<std::uint32_t>((std::uint64_t{k} + 1) * items / n)};
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
bool same_bits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}
}  // namespace

TEST_CASE("walk parts: N = 1, 2, 3, 7 combine to the whole run bitwise (sums, quantiles, positions)", "[shard]") {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 1.0);
  EnsembleConfig cfg;
  cfg.seed = 17;
  cfg.environments = 23;
  cfg.walkers_per_env = 3;
  cfg.times = log_times(4000, 6);
  cfg.keep_positions = true;
  cfg.threads = 2;
  const EnsembleResult whole = run_ensemble(pot, Metropolis{}, cfg);
  for (std::uint32_t n : {1u, 2u, 3u, 7u}) {
    std::vector<EnsemblePart> parts;
    for (std::uint32_t k = 0; k < n; ++k) {
      const auto [b, e] = block(k, n, cfg.environments);
      EnsembleConfig c1 = cfg;
      c1.threads = 1 + k % 2;  // the thread count never matters
      parts.push_back(run_ensemble_part(pot, Metropolis{}, c1, b, e));
    }
    const EnsembleResult r = combine_ensemble(pot, cfg, parts);
    INFO("N = " << n);
    CHECK(same_bits(r.mean_x, whole.mean_x));
    CHECK(same_bits(r.msd, whole.msd));
    CHECK(same_bits(r.mean_abs, whole.mean_abs));
    CHECK(same_bits(r.env_msd, whole.env_msd));
    CHECK(same_bits(r.quantiles, whole.quantiles));
    CHECK(same_bits(r.final_positions, whole.final_positions));
    CHECK(r.walker_steps == whole.walker_steps);
    CHECK(r.largest_half_width == whole.largest_half_width);
  }
  // The negative controls: a part missing, parts out of order, a part of another size.
  std::vector<EnsemblePart> parts{run_ensemble_part(pot, Metropolis{}, cfg, 0, 10), run_ensemble_part(pot, Metropolis{}, cfg, 10, 23)};
  CHECK_THROWS_WITH(combine_ensemble(pot, cfg, {parts[0]}), Catch::Contains("cover only [0, 10) of 23"));
  CHECK_THROWS_WITH(combine_ensemble(pot, cfg, {parts[1], parts[0]}), Catch::Contains("expected one starting at 0"));
  EnsemblePart cut = parts[1];
  cut.sum_x2.pop_back();
  CHECK_THROWS_AS(combine_ensemble(pot, cfg, {parts[0], cut}), InvalidArgument);
  CHECK_THROWS_WITH(run_ensemble_part(pot, Metropolis{}, cfg, 5, 5), Catch::Contains("non-empty part of [0, 23)"));
  CHECK_THROWS_WITH(run_ensemble_part(pot, Metropolis{}, cfg, 20, 24), Catch::Contains("non-empty part of [0, 23)"));
}

TEST_CASE("exact parts: N = 1, 2, 3, 7 combine to the whole run bitwise, Kesten's valley bottoms too", "[shard][exact]") {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 6.0);
  ExactEnsembleConfig cfg;
  cfg.seed = 4;
  cfg.environments = 9;
  cfg.octaves = 14;
  cfg.per_octave = 2;
  const ExactEnsembleResult whole = run_exact_ensemble(pot, Metropolis{}, cfg);
  const std::uint32_t valley = 11;
  const KestenConvergence k_whole = kesten_convergence(whole, pot, cfg.seed, 1.0, valley, 5.0);
  const std::vector<double> g = kesten_depths(whole.ln_t, 1.0);
  for (std::uint32_t n : {1u, 2u, 3u, 7u}) {
    std::vector<ExactPart> parts;
    Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> bottoms(cfg.environments + valley, static_cast<Eigen::Index>(g.size()));
    for (std::uint32_t k = 0; k < n; ++k) {
      const auto [b, e] = block(k, n, cfg.environments);
      parts.push_back(run_exact_part(pot, Metropolis{}, cfg, b, e));
      bottoms.middleRows(b, e - b) = kesten_valley_bottoms(pot, cfg.seed, g, b, e);
      const auto [vb, ve] = block(k, n, valley);
      if (ve > vb) bottoms.middleRows(cfg.environments + vb, ve - vb) = kesten_valley_bottoms(pot, cfg.seed, g, cfg.environments + vb, cfg.environments + ve);
    }
    const ExactEnsembleResult r = combine_exact(pot, cfg, parts);
    INFO("N = " << n);
    CHECK(same_bits(r.msd, whole.msd));
    CHECK(same_bits(r.msd_se, whole.msd_se));
    CHECK(same_bits(r.edge_mass, whole.edge_mass));
    CHECK(same_bits(r.env_msd, whole.env_msd));
    CHECK(r.squaring_defect == whole.squaring_defect);
    const KestenConvergence kc = kesten_convergence(r, pot, 1.0, valley, 5.0, bottoms);
    CHECK(kc.c == k_whole.c);
    CHECK(kc.amplitude4 == k_whole.amplitude4);
    CHECK(kc.amplitude4_se == k_whole.amplitude4_se);
    CHECK(kc.valley_amplitude4 == k_whole.valley_amplitude4);
    REQUIRE(kc.points.size() == k_whole.points.size());
    for (std::size_t i = 0; i < kc.points.size(); ++i) CHECK(kc.points[i].msd_cv == k_whole.points[i].msd_cv);
  }
  // A bottoms matrix of the wrong shape is refused, not read past its end.
  const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> small(3, 2);
  CHECK_THROWS_WITH(kesten_convergence(whole, pot, 1.0, valley, 5.0, small), Catch::Contains("valley bottoms"));
  CHECK_THROWS_WITH(combine_exact(pot, cfg, {run_exact_part(pot, Metropolis{}, cfg, 0, 4)}), Catch::Contains("cover only [0, 4) of 9"));
}

TEST_CASE("lattice parts: N = 1, 2, 3, 7 combine to the whole run bitwise", "[shard][lattice]") {
  LatticeFieldOptions fo;
  fo.dim = 2;
  fo.box = 64;
  fo.s = 3.0;
  const LatticeField field(fo);
  LatticeWalkConfig cfg;
  cfg.seed = 5;
  cfg.environments = 8;
  cfg.walkers_per_env = 2;
  cfg.times = log_times(300, 5);
  const std::vector<double> temps{1.0, 1.5};
  const std::vector<LatticeWalkResult> whole = run_lattice_walks(field, Metropolis{}, cfg, temps);
  for (std::uint32_t n : {1u, 2u, 3u, 7u}) {
    std::vector<std::vector<LatticeWalkResult>> by_temp(temps.size());
    for (std::uint32_t k = 0; k < n; ++k) {
      LatticeWalkConfig c = cfg;
      std::tie(c.env_begin, c.env_end) = block(k, n, cfg.environments);
      const auto part = run_lattice_walks(field, Metropolis{}, c, temps);
      for (std::size_t t = 0; t < temps.size(); ++t) by_temp[t].push_back(part[t]);
    }
    for (std::size_t t = 0; t < temps.size(); ++t) {
      const LatticeWalkResult r = combine_lattice_walk(by_temp[t]);
      INFO("N = " << n << ", T = " << temps[t]);
      CHECK(same_bits(r.msd, whole[t].msd));
      CHECK(same_bits(r.env_msd, whole[t].env_msd));
      CHECK(r.max_reach == whole[t].max_reach);
      CHECK(r.walker_steps == whole[t].walker_steps);
    }
  }
  LatticeWalkConfig bad = cfg;
  bad.env_begin = 8;
  bad.env_end = 9;
  CHECK_THROWS_WITH(run_lattice_walks(field, Metropolis{}, bad, temps), Catch::Contains("non-empty part of [0, 8)"));
}

TEST_CASE("valley bottoms by ranges equal the whole sample, on extendable and fixed windows", "[shard][theory]") {
  const SinaiPotential sinai(SinaiPotential::Increments::kGaussian, 1.0);
  const FbmPotential fbm(1.5, 1.0);
  for (const Potential* pot : {static_cast<const Potential*>(&sinai), static_cast<const Potential*>(&fbm)}) {
    const auto whole = sample_valley_bottoms(*pot, 4.0, 40, 9);
    for (std::uint32_t n : {1u, 2u, 3u, 7u}) {
      std::vector<std::int64_t> joined;
      for (std::uint32_t k = 0; k < n; ++k) {
        const auto [b, e] = block(k, n, 40);
        const auto part = sample_valley_bottoms_range(*pot, 4.0, b, e, 9);
        joined.insert(joined.end(), part.begin(), part.end());
      }
      INFO(pot->name() << ", N = " << n);
      CHECK(joined == whole);
    }
  }
  CHECK_THROWS_WITH(sample_valley_bottoms_range(sinai, 4.0, 3, 3, 9), Catch::Contains("must not be empty"));
}
