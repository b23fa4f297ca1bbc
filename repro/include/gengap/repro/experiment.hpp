/// @file experiment.hpp
/// @brief The reproduction's experiments: each one reads its resolved config (the experiment's
/// fields with the chosen profile's merged over them), writes its data (CSV, JSON) into its folder,
/// and returns a result object with "verdicts" (rows of the verdict table) and "markdown" (tables
/// for the summary).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"

namespace gengap::repro {

/// What an experiment gets from the pipeline.
struct Context {
  nlohmann::json config;            ///< the resolved config
  std::string file;                 ///< the config file, for messages
  std::string name;                 ///< the experiment's name (the file's stem)
  std::filesystem::path dir;        ///< its output folder
  std::string hash;                 ///< hash of config + program: finished runs with another hash are redone
  std::string data_root;            ///< --data-root: where CIFAR folders are looked for ("" = none given)
};

/// Thrown by an experiment (or a row of one) that cannot run here, e.g. for want of a data set;
/// the message says why and what to do. The pipeline lists it as skipped, not failed.
struct Skipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Field `key` of `c` as T; a missing field or a wrong type is an InvalidArgument naming the file.
template <class T>
T get(const nlohmann::json& c, const char* key, const std::string& file) {
  if (!c.contains(key)) throw sim::InvalidArgument(key, "(missing)", "required field of " + file);
  try {
    return c[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw sim::InvalidArgument(key, c[key].dump(), "wrong type in " + file);
  }
}

/// FNV-1a, 64 bit, continuing from `h`.
inline std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

/// A file's whole content. @throws InvalidArgument ("file = <path>: cannot open")
std::string read_text(const std::filesystem::path& p);

/// A 64-bit value as 16 hexadecimal digits.
std::string hex64(std::uint64_t v);

/// Sinai's walk against Kesten and Golosov (kind "sinai").
nlohmann::json run_sinai(const Context& x);
/// Walks on fBm landscapes for several alpha (kind "alpha_sweep").
nlohmann::json run_alpha_sweep(const Context& x);
/// A walk on an fBm landscape of exponent `alpha`, set up by the object `walk` of a config
/// (environments, walkers, temperature, dynamics, seed, t_max, per_decade): the distance
/// sqrt(<x^2>) fitted like the weight distances. Returns the fit and writes walk.csv into `dir`.
nlohmann::json run_walk_check(const nlohmann::json& walk, double alpha, const std::string& file,
                              const std::filesystem::path& dir);

/// The batch-size experiment in silico: SGD on a random Fourier landscape for several batch sizes
/// (kind "sgd_batch"): log-time fit, exponent against 2/alpha, overlap against iterations vs epochs.
nlohmann::json run_sgd_batch(const Context& x);

/// Whether this build has the training experiments (GENGAP_BUILD_TRAIN).
bool training_available();
/// The paper's Table 1 row(s): SB, LB, +LR, +GBN, +RA (kind "train_table").
nlohmann::json run_train_table(const Context& x);
/// Weight distances for several batch sizes in the high-lr phase, and the diffusion check
/// (kind "weight_distance").
nlohmann::json run_weight_distance(const Context& x);

}  // namespace gengap::repro
