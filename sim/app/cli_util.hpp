// Helpers shared by the gengap command-line tools: config files, progress, atomic output.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gengap::cli {

/// Setters for the fields a JSON config may hold; unknown fields and wrong types are errors.
class ConfigFields {
 public:
  /// Registers field `name` bound to `target`.
  template <class T>
  void add(const std::string& name, T& target) {
    setters_[name] = [&target, name](const nlohmann::json& v) {
      try {
        target = v.get<T>();
      } catch (const nlohmann::json::exception&) {
        throw_type(name, v);
      }
    };
  }
  /// Applies a config file's object; throws gengap::sim::InvalidArgument on any problem.
  void apply(const std::string& file) const;
  /// The text of every known field, for messages.
  std::string known() const;

 private:
  [[noreturn]] static void throw_type(const std::string& name, const nlohmann::json& v);
  std::map<std::string, std::function<void(const nlohmann::json&)>> setters_;
};

/// Finds `--config FILE` or `--config=FILE` in argv (before CLI parsing, so flags override it).
std::string find_config(int argc, char** argv);

/// Progress on stderr: a self-rewriting line on a terminal, a line every few seconds otherwise.
class Progress {
 public:
  explicit Progress(std::string label);
  /// Reports the fraction done, in [0, 1].
  void operator()(double fraction);
  /// Ends the line.
  void done();

 private:
  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
  bool printed_ = false;
};

/// A progress callback for a sweep over batch sizes (sim::run_batch_sweep): one Progress line per
/// batch size, labelled "<label>, B = <b>", ended when its fraction reaches 1.
std::function<void(std::int64_t, double)> batch_progress(const std::string& label);

/// Writes text to `path` atomically (temporary file + rename); creates parent folders.
void write_file_atomic(const std::string& path, const std::string& text);

/// Reads a CSV of numbers: returns the header names (or "col0".. when there is none) and columns.
std::pair<std::vector<std::string>, std::vector<std::vector<double>>> read_csv(const std::string& path);

}  // namespace gengap::cli
