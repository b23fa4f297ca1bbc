// Helpers shared by the gengap command-line tools.
#include "cli.hpp"

#include <unistd.h>

#include <csignal>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "gengap/core/error.hpp"

namespace gengap::cli {

const CLI::Validator& finite_number() {
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        // The whole value a decimal number: no empty string (CLI11 reads it as 0), no hexadecimal,
        // no "inf"/"nan", nothing after the number, no embedded NUL.
        if (s.empty()) return "must be a number, not an empty string";
        if (s.find('\0') != std::string::npos) return "must be a number, not a string with a NUL byte";
        {
          std::string word;
          for (char c : s.substr(s[0] == '+' || s[0] == '-' ? 1 : 0)) word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (word == "inf" || word == "infinity" || word == "nan") return "must be a finite number, not " + core::printable(s, 40);
        }
        std::size_t i = 0;
        if (s[i] == '+' || s[i] == '-') ++i;
        std::size_t digits = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
        if (i < s.size() && s[i] == '.') {
          ++i;
          while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
        }
        if (digits > 0 && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
          std::size_t j = i + 1;
          if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
          std::size_t exp_digits = 0;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j, ++exp_digits;
          if (exp_digits > 0) i = j;
        }
        if (digits == 0 || i != s.size()) return "must be a decimal number, not " + core::printable(s, 40);
        const double d = std::strtod(s.c_str(), nullptr);
        if (!std::isfinite(d)) return "must be a finite number, not " + core::printable(s, 40);
        return {};
      },
      "FINITE", "finite");
  return v;
}

std::string integer_problem(const std::string& s, bool is_signed, std::uint64_t max_magnitude_positive,
                            std::uint64_t max_magnitude_negative) {
  if (s.empty()) return "must be an integer, not an empty string";
  if (s.find('\0') != std::string::npos) return "must be an integer, not a string with a NUL byte";
  std::size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    ++i;
  }
  if (i == s.size()) return "must be an integer, not " + core::printable(s, 40);
  for (std::size_t j = i; j < s.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return "must be a decimal integer, not " + core::printable(s, 40);
  }
  // CLI11 reads "010" as octal 8: a leading zero is refused rather than guessed at.
  if (s[i] == '0' && s.size() - i > 1) return "must be written without leading zeros, not " + core::printable(s, 40);
  if (negative && !is_signed && s.find_first_not_of('0', i) != std::string::npos) {
    return "must not be negative: " + core::printable(s, 40);
  }
  std::uint64_t m = 0;
  const std::uint64_t limit = negative ? max_magnitude_negative : max_magnitude_positive;
  for (std::size_t j = i; j < s.size(); ++j) {
    const auto d = static_cast<std::uint64_t>(s[j] - '0');
    if (m > (limit - d) / 10) {
      return "is out of range (" + std::string(negative ? "below -" : "above ") + std::to_string(limit) + "): " + core::printable(s, 40);
    }
    m = m * 10 + d;
  }
  return {};
}

Options::Options(CLI::App* app) : app_(app) {
  app_->add_option("--config", config_, "JSON file of fields (flags override it)")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            if (s.empty()) return "must name a file, not an empty string";
            return {};
          },
          "", ""));
}

CLI::Option* Options::flag(const std::string& flags, const std::string& key, bool& target, const std::string& help) {
  // "--name,!--no-name" becomes two flags, so that the help shows the default ("on" or "off") instead
  // of CLI11's "{false}" (the value the negation sets).
  std::string positive = flags, negative;
  const auto bang = flags.find(",!");
  if (bang != std::string::npos) {
    positive = flags.substr(0, bang);
    negative = flags.substr(bang + 2);
  }
  const std::string shown = help + (target ? " (default: on)" : " (default: off)");
  CLI::Option* o = app_->add_flag_callback(positive, [&target] { target = true; }, shown);
  if (!negative.empty()) {
    CLI::Option* n = app_->add_flag_callback(negative, [&target] { target = false; }, "turn " + positive + " off");
    o->excludes(n);
  }
  bind(key, target);
  if (!key.empty()) help_[key] = help;
  return o;
}

void Options::apply_json(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_object()) throw core::InvalidArgument("config", where, "must hold a JSON object");
  const std::string in = "in " + where;
  for (const auto& [k, v] : j.items()) {
    auto it = setters_.find(k);
    if (it == setters_.end()) throw core::InvalidArgument(k, core::json_excerpt(v), "unknown field " + in + " (known: " + known() + ")");
    it->second(v, in);
  }
}

void Options::apply_config_file(const std::string& path) const { apply_json(core::read_json_file(path, "config"), path); }

std::string Options::known() const {
  std::string s;
  for (const auto& [k, f] : setters_) s += (s.empty() ? "" : ", ") + k;
  return s;
}

nlohmann::json Options::values() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, get] : getters_) j[k] = get();
  return j;
}

nlohmann::json Options::describe() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [k, get] : getters_) {
    const auto h = help_.find(k);
    j.push_back({{"key", k}, {"default", get()}, {"help", h == help_.end() ? std::string() : h->second}});
  }
  return j;
}

void prepare_process() { std::signal(SIGXFSZ, SIG_IGN); }

bool stdout_ok() {
  std::cout.flush();
  bool ok = !std::cout.fail();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) ok = false;
  return ok;
}

std::string find_config(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--config=", 0) == 0) return a.substr(9);
  }
  return {};
}

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::operator()(double f) {
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.2 : 5.0)) return;
  last_ = now;
  const double el = std::chrono::duration<double>(now - start_).count();
  char buf[160];
  if (f > 0.001) {
    std::snprintf(buf, sizeof buf, "%s: %5.1f%%  elapsed %.0f s  ETA %.0f s", label_.c_str(), 100 * f, el, el * (1 - f) / f);
  } else {
    std::snprintf(buf, sizeof buf, "%s: %5.1f%%  elapsed %.0f s", label_.c_str(), 100 * f, el);
  }
  if (tty_) {
    std::cerr << '\r' << buf << "\033[K" << std::flush;
  } else {
    std::cerr << buf << '\n';
  }
  printed_ = true;
}

void Progress::done() {
  if (printed_ && tty_) std::cerr << '\n';
  printed_ = false;  // a second done() prints nothing
}

std::function<void(std::int64_t, double)> batch_progress(const std::string& label) {
  auto current = std::make_shared<std::unique_ptr<Progress>>();
  return [current, label](std::int64_t b, double fraction) {
    if (!*current) *current = std::make_unique<Progress>(label + ", B = " + std::to_string(b));
    (**current)(fraction);
    if (fraction >= 1) {
      (*current)->done();
      current->reset();
    }
  };
}

}  // namespace gengap::cli
