// Shards: one run of an ensemble command (walk, exact, valley, lattice) split across processes or
// machines, and merged back into the bytes the unsplit run writes (docs: "Running on a cluster").
//
// Shard I of N computes the contiguous block [floor(I E / N), floor((I + 1) E / N)) of the run's E
// environments (samples), each on its own Philox streams, and writes a shard file: the run's
// config, the shard's id, the program's version and build, the per-environment raw results and a
// checksum. `gengap-sim merge` checks that the shards belong to one run and cover it exactly once,
// and writes the run's JSON and CSV with the commands' own code.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace gengap::sim::app {

/// The program's name and version, as `gengap-sim --version` prints it and shard files record it.
inline constexpr const char* kProgramVersion = "gengap-sim 0.1.0";
/// The shard file format.
inline constexpr const char* kShardFormat = "gengap-sim-shard-1";

/// Which shard of a run this process computes: part `index` of `count` (count = 0: the whole run).
struct ShardSpec {
  std::uint32_t index = 0;
  std::uint32_t count = 0;
  bool active() const { return count > 0; }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// Parses "I/N" (0 <= I < N <= 2^20; "" = no shard). Throws InvalidArgument for field "shard".
ShardSpec parse_shard(const std::string& text);

/// The block of `items` (environments or samples) that shard `s` computes: [floor(I n / N),
/// floor((I + 1) n / N)); the whole range without a shard.
std::pair<std::uint32_t, std::uint32_t> shard_range(const ShardSpec& s, std::uint32_t items);

/// Refuses more shards than items (a shard would be empty). `field` names the count in the message.
void require_shardable(const ShardSpec& s, std::uint64_t items, const std::string& field);

/// Declares --shard I/N (config key "shard") on a command.
void add_shard_option(cli::Options& opts, std::string& shard);

/// The config keys that do not change a run's numbers (outputs, progress, threads, the inner
/// loop's instruction set, the shard itself): left out of the run's identity in shard files.
bool is_run_setting(const std::string& key);

/// The instruction set this program was compiled for (e.g. "x86-64 avx2 fma"): recorded in shard
/// files, since the exact solver's floating point (Eigen's products) depends on it.
std::string build_target();

// ---- exact binary arrays in JSON: base64 of the little-endian bytes ----

nlohmann::json encode_array(const std::vector<double>& v);
nlohmann::json encode_array(const std::vector<std::int32_t>& v);
nlohmann::json encode_array(const std::vector<std::int64_t>& v);
nlohmann::json encode_matrix(const Eigen::MatrixXd& m);  ///< {"rows", "cols", "data": row-major}
nlohmann::json encode_matrix(const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>& m);
/// Decoders: `what` names the field in messages; `n` is the expected length (any when SIZE_MAX).
std::vector<double> decode_doubles(const nlohmann::json& j, const std::string& what, std::size_t n = SIZE_MAX);
std::vector<std::int32_t> decode_int32(const nlohmann::json& j, const std::string& what, std::size_t n = SIZE_MAX);
std::vector<std::int64_t> decode_int64(const nlohmann::json& j, const std::string& what, std::size_t n = SIZE_MAX);
Eigen::MatrixXd decode_matrix(const nlohmann::json& j, const std::string& what, Eigen::Index rows, Eigen::Index cols);
Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> decode_int64_matrix(const nlohmann::json& j, const std::string& what,
                                                                              Eigen::Index rows, Eigen::Index cols);

// ---- shard files ----

/// A shard file's document: format, program, build, command, run (the config that identifies the
/// run), shard {index, count, begin, end}, data (the command's raw results) and checksum (FNV-1a 64
/// of the rest, as dumped).
nlohmann::json shard_document(const std::string& command, const nlohmann::json& run, const ShardSpec& spec, std::uint32_t begin,
                              std::uint32_t end, nlohmann::json data);

/// The checksum field of a shard document (given without its "checksum"): "fnv1a64:" and 16 hex digits.
std::string shard_checksum(const nlohmann::json& doc_without_checksum);

/// Shards that were checked to form one whole run: in index order.
struct ShardSet {
  std::string command;              ///< the gengap-sim command that made them
  nlohmann::json run;               ///< the run's config (without run settings)
  std::uint32_t count = 0;          ///< N
  std::vector<nlohmann::json> data; ///< data of shard 0 ... N-1
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  ///< [begin, end) of each
  std::vector<std::string> names;   ///< where each came from (file name), for messages
  std::vector<std::string> builds;  ///< the build_target() of each
};

/// Checks shard documents (each with the name it is reported by): format, checksum, one program,
/// command and run, every index of one count present exactly once, the ranges those of the count.
/// Throws InvalidArgument with one line naming the shard and the field.
ShardSet check_shards(const std::vector<std::pair<std::string, nlohmann::json>>& docs);

/// Parses the text of a shard file named `name`; a text that is not complete JSON is refused as a
/// truncated or damaged shard (InvalidArgument naming it).
nlohmann::json parse_shard_text(const std::string& text, const std::string& name);

/// Reads and checks shard files (check_shards()).
ShardSet read_shards(const std::vector<std::string>& files);

/// Refuses a shard set whose run differs from `run` in any key of `keys` (the repro's own run):
/// "<what>: shard run.<key> = <v>, but the config asks for <w>".
void require_same_run(const ShardSet& set, const nlohmann::json& run, const std::vector<std::string>& keys, const std::string& what);

}  // namespace gengap::sim::app
