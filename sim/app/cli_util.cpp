// Helpers shared by the gengap command-line tools.
#include "cli_util.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "gengap/sim/error.hpp"

namespace gengap::cli {

using sim::InvalidArgument;

void ConfigFields::throw_type(const std::string& name, const nlohmann::json& v) {
  throw InvalidArgument(name, v.dump(), "wrong type for this field");
}

std::string ConfigFields::known() const {
  std::string s;
  for (const auto& [k, f] : setters_) s += (s.empty() ? "" : ", ") + k;
  return s;
}

void ConfigFields::apply(const std::string& file) const {
  std::ifstream in(file);
  if (!in) throw InvalidArgument("config", file, "cannot open the file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    throw InvalidArgument("config", file, "malformed JSON (" + what.substr(what.find(']') + 2) + ")");
  }
  if (!j.is_object()) throw InvalidArgument("config", file, "must hold a JSON object");
  for (const auto& [k, v] : j.items()) {
    auto it = setters_.find(k);
    if (it == setters_.end()) throw InvalidArgument(k, v.dump(), "unknown field in " + file + " (known: " + known() + ")");
    it->second(v);
  }
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

void write_file_atomic(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw sim::RuntimeError("cannot write " + tmp);
    out << text;
    out.flush();
    if (!out) throw sim::RuntimeError("error while writing " + tmp);
  }
  fs::rename(tmp, p);
}

std::pair<std::vector<std::string>, std::vector<std::vector<double>>> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("csv", path, "cannot open the file");
  std::vector<std::string> names;
  std::vector<std::vector<double>> cols;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    std::vector<double> vals;
    bool numeric = true;
    for (const auto& c : cells) {
      try {
        std::size_t used = 0;
        vals.push_back(std::stod(c, &used));
        while (used < c.size() && std::isspace(static_cast<unsigned char>(c[used]))) ++used;
        if (used != c.size()) numeric = false;
      } catch (const std::exception&) {
        numeric = false;
      }
    }
    if (!numeric) {
      if (names.empty() && cols.empty()) {
        for (auto c : cells) {
          c.erase(0, c.find_first_not_of(" \t\""));
          c.erase(c.find_last_not_of(" \t\"") + 1);
          names.push_back(c);
        }
        continue;
      }
      throw InvalidArgument(path + ":" + std::to_string(lineno), line, "expected comma-separated numbers");
    }
    if (cols.empty()) cols.resize(vals.size());
    if (vals.size() != cols.size())
      throw InvalidArgument(path + ":" + std::to_string(lineno), line, "expected " + std::to_string(cols.size()) + " columns");
    for (std::size_t i = 0; i < vals.size(); ++i) cols[i].push_back(vals[i]);
  }
  if (names.empty())
    for (std::size_t i = 0; i < cols.size(); ++i) names.push_back("col" + std::to_string(i));
  if (cols.empty()) throw InvalidArgument("csv", path, "holds no data rows");
  if (names.size() != cols.size()) throw InvalidArgument("csv", path, "header and rows have different column counts");
  return {names, cols};
}

}  // namespace gengap::cli
