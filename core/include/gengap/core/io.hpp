/// @file io.hpp
/// @brief Files that are never half-written: atomic writes that check every step (write, flush,
/// fsync, close, rename) and never replace a good file with a bad one; bounded reads; output paths
/// checked before any work starts; the CSV reader of the command-line tools.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gengap::core {

/// Writes `data` to `path` atomically: a temporary file in the same folder is written, flushed,
/// fsync'ed and closed, every step checked, then renamed over `path`. On any failure (a full disk, a
/// read-only folder, a failing close) the temporary file is removed, `path` keeps its old content,
/// and RuntimeError says which file and why. Parent folders are created.
void write_file_atomic(const std::string& path, std::string_view data);

/// The whole content of a regular file. `field` names it in errors (e.g. "config", "checkpoint"):
/// a missing file, a folder, an unreadable file or one larger than `max_bytes` is an InvalidArgument,
/// as is a path check_path_text() refuses.
std::string read_file(const std::string& path, const std::string& field, std::uint64_t max_bytes = std::uint64_t{1} << 30);

/// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points beyond U+10FFFF).
bool is_utf8(std::string_view s);

/// Refuses (InvalidArgument naming `field`) a path holding a NUL byte (the system would use the
/// shorter path before it) or one that is not valid UTF-8 (it could not be written into a JSON
/// result). read_file(), check_output_file() and check_output_dir() call it.
void check_path_text(const std::string& field, const std::string& path);

/// Checks, before any work starts, that a result can be written to file `path` (option `field`):
/// it is not a folder, and its folder exists and accepts a new file (tested by creating and removing a
/// probe file) or can be created (it is created, probed and removed again: the check leaves nothing
/// behind, and write_file_atomic() creates it when the result is written). Throws InvalidArgument
/// naming the field, the path and why. An empty path is accepted (no output asked for).
void check_output_file(const std::string& field, const std::string& path);

/// Like check_output_file() for an output folder: `path` is a folder or can be created, and accepts
/// new files.
void check_output_dir(const std::string& field, const std::string& path);

/// Refuses (InvalidArgument naming the later field) two of `named` (field, path) that name the same
/// file, after resolving links and relative parts; empty paths are skipped. For outputs that would
/// overwrite each other, or an output that would overwrite an input before it is read.
void check_distinct_paths(const std::vector<std::pair<std::string, std::string>>& named);

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
