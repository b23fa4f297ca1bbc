/// @file io.hpp
/// @brief Files that are never half-written: atomic writes that check every step (write, flush,
/// fsync, close, rename) and never replace a good file with a bad one; bounded reads; output paths
/// checked before any work starts; the CSV reader of the command-line tools.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gengap::core {

/// Writes `data` to `path` atomically: a temporary file in the same folder is written, flushed,
/// fsync'ed and closed, every step checked, then renamed over `path`. On any failure (a full disk, a
/// read-only folder, a failing close) the temporary file is removed, `path` keeps its old content,
/// and RuntimeError says which file and why. Parent folders are created.
void write_file_atomic(const std::string& path, std::string_view data);

/// The whole content of a regular file. `field` names it in errors (e.g. "config", "checkpoint"):
/// a missing file, a folder, an unreadable file or one larger than `max_bytes` is an InvalidArgument.
std::string read_file(const std::string& path, const std::string& field, std::uint64_t max_bytes = std::uint64_t{1} << 30);

/// Checks, before any work starts, that a result can be written to file `path` (option `field`):
/// it is not a folder, and its folder exists or can be created and accepts a new file (tested by
/// creating and removing a probe file). Throws InvalidArgument naming the field, the path and why.
/// An empty path is accepted (no output asked for).
void check_output_file(const std::string& field, const std::string& path);

/// Like check_output_file() for an output folder: `path` is a folder or can be created, and accepts
/// new files.
void check_output_dir(const std::string& field, const std::string& path);

/// A table of numbers read from CSV.
struct CsvTable {
  std::vector<std::string> names;          ///< column names (from the header; "col0", ... without one)
  std::vector<std::vector<double>> cols;   ///< columns, all the same length (>= 1 row)
};

/// Parses CSV text of finite numbers: an optional header line, '#' comment lines and blank lines
/// skipped, every row with the header's number of cells. `where` names the source in errors
/// ("file.csv"); an error names the line. Throws InvalidArgument.
CsvTable parse_csv(std::string_view text, const std::string& where);

/// read_file() + parse_csv() (at most 1 GiB).
CsvTable read_csv(const std::string& path);

}  // namespace gengap::core
