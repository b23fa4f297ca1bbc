// Helpers shared by the gengap command-line tools: options declared once for flag and config key,
// strict value checks, config files, progress lines. Not installed (CLI11 is a build dependency).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gengap/core/json.hpp"

namespace gengap::cli {

/// The type name a validator shows in the help ("INT" or "UINT").
template <class E>
const char* is_signed_name() {
  return std::is_signed_v<E> ? "" : "UINT";
}

/// Validators CLI11 lacks: a whole decimal number that must be finite (integer<E>() below does the
/// same for integers, where CLI11 would turn "-1" into 2^64 - 1 for an unsigned option).
const CLI::Validator& finite_number();
/// Why `s` is not a decimal integer of the given range ("" when it is): an empty string, a sign alone,
/// anything but digits, a leading zero (CLI11 would read "010" as octal 8), a minus sign for an unsigned
/// type, a magnitude beyond the type (CLI11 would clamp it).
std::string integer_problem(const std::string& s, bool is_signed, std::uint64_t max_positive, std::uint64_t max_negative_magnitude);
/// A validator of decimal integers of type E (integer_problem()).
template <class E>
const CLI::Validator& integer() {
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        constexpr bool is_signed = std::is_signed_v<E>;
        const auto max_pos = static_cast<std::uint64_t>(std::numeric_limits<E>::max());
        const std::uint64_t max_neg = is_signed ? static_cast<std::uint64_t>(std::numeric_limits<E>::max()) + 1 : 0;
        return integer_problem(s, is_signed, max_pos, max_neg);
      },
      is_signed_name<E>(), "decimal integer");
  return v;
}

/// The options of one (sub)command, each declared once: add() binds a flag and a config key to the
/// same variable, with strict checks for its type (integers without fraction, unsigned without sign,
/// finite floating point), so flags and config files accept exactly the same values.
class Options {
 public:
  /// Options of `app`; the config file is given with `--config FILE` (flags override it).
  explicit Options(CLI::App* app);

  /// An option with flags `flags` (CLI11 syntax, e.g. "-e,--environments"; a name without a dash is
  /// positional) and config key `key` ("" = flag only), bound to `target`.
  template <class T>
  CLI::Option* add(const std::string& flags, const std::string& key, T& target, const std::string& help) {
    CLI::Option* o = app_->add_option(flags, target, help);
    o->capture_default_str();
    check<T>(o);
    bind(key, target);
    if (!key.empty()) help_[key] = help;
    return o;
  }
  /// A boolean flag (with its negation when `flags` has one, e.g. "--augment,!--no-augment").
  CLI::Option* flag(const std::string& flags, const std::string& key, bool& target, const std::string& help);
  /// Binds config key `key` to `target` without a flag.
  template <class T>
  void bind(const std::string& key, T& target) {
    if (key.empty()) return;
    setters_[key] = [&target, key](const nlohmann::json& v, const std::string& where) { target = core::json_as<T>(v, key, where); };
    getters_[key] = [&target] { return nlohmann::json(target); };
  }
  /// Applies a JSON object: every key must be known; values are converted strictly (core::json_as).
  void apply_json(const nlohmann::json& j, const std::string& where) const;
  /// Reads and applies a config file (core::read_json_file + apply_json).
  void apply_config_file(const std::string& path) const;
  /// The known config keys, comma-separated.
  std::string known() const;
  /// Every config key with the value its variable holds now (the default before anything is applied).
  nlohmann::json values() const;
  /// Every config key as {"key", "default" (its value now), "help"}, in key order.
  nlohmann::json describe() const;
  /// The app.
  CLI::App* app() const { return app_; }

 private:
  template <class T>
  struct element {
    using type = T;
  };
  template <class T, class A>
  struct element<std::vector<T, A>> {
    using type = T;
  };
  template <class T>
  static void check(CLI::Option* o) {
    using E = typename element<T>::type;
    if constexpr (std::is_floating_point_v<E>) o->check(finite_number());
    if constexpr (std::is_integral_v<E> && !std::is_same_v<E, bool>) o->check(integer<E>());
  }
  CLI::App* app_;
  std::string config_;
  std::map<std::string, std::function<void(const nlohmann::json&, const std::string&)>> setters_;
  std::map<std::string, std::function<nlohmann::json()>> getters_;
  std::map<std::string, std::string> help_;
};

/// Call first in a program's main(): ignores SIGXFSZ, so that a write beyond the file-size limit
/// (`ulimit -f`) fails with EFBIG and is reported (and its temporary file removed) by the atomic
/// writers, instead of killing the program and leaving a .tmp file.
void prepare_process();

/// Flushes standard output and says whether everything written to it arrived: false on a full disk,
/// a closed descriptor or any other write error (a program must not exit 0 after losing its output).
bool stdout_ok();

/// Finds `--config FILE` or `--config=FILE` in argv (before CLI parsing, so flags override it).
std::string find_config(int argc, char** argv);

/// Progress on stderr: a self-rewriting line on a terminal, a line every few seconds otherwise.
class Progress {
 public:
  /// A progress line labelled `label`.
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

}  // namespace gengap::cli
