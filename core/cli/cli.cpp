// Helpers shared by the gengap command-line tools.
#include "cli.hpp"

#include <unistd.h>

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
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (end == s.c_str()) return {};  // not a number: CLI11's own conversion reports it
        if (!std::isfinite(d)) return "must be a finite number, not " + core::printable(s, 40);
        return {};
      },
      "FINITE", "finite");
  return v;
}

const CLI::Validator& non_negative_integer() {
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        const auto p = s.find_first_not_of(" \t");
        if (p != std::string::npos && s[p] == '-') return "must not be negative: " + core::printable(s, 40);
        return {};
      },
      "UINT", "non-negative");
  return v;
}

Options::Options(CLI::App* app) : app_(app) {
  app_->add_option("--config", config_, "JSON file of fields (flags override it)");
}

CLI::Option* Options::flag(const std::string& flags, const std::string& key, bool& target, const std::string& help) {
  CLI::Option* o = app_->add_flag(flags, target, help);
  bind(key, target);
  if (!key.empty()) help_[key] = help;
  return o;
}

void Options::apply_json(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_object()) throw core::InvalidArgument("config", where, "must hold a JSON object");
  const std::string in = "in " + where;
  for (const auto& [k, v] : j.items()) {
    auto it = setters_.find(k);
    if (it == setters_.end()) throw core::InvalidArgument(k, v.dump(), "unknown field " + in + " (known: " + known() + ")");
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
