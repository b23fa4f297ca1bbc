// Runs a command-line tool as a user would and checks its one-line errors (shared by the CLI tests).
#pragma once

#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

namespace gengap::testing {

/// Exit code and standard error of one run.
struct Outcome {
  int code;
  std::string err;
};

/// A scratch folder under the test build tree.
inline std::filesystem::path scratch(const std::string& name) {
  const std::filesystem::path d = std::filesystem::path(GENGAP_TEST_TMP) / name;
  std::filesystem::create_directories(d);
  return d;
}

/// Runs `exe args` with stdout discarded; stderr is captured through a file in `dir`.
inline Outcome run_tool(const std::string& exe, const std::string& args, const std::filesystem::path& dir) {
  // One file per call: ctest runs test cases in parallel processes that share `dir`.
  static int calls = 0;
  const std::filesystem::path err = dir / ("stderr." + std::to_string(::getpid()) + "." + std::to_string(calls++) + ".txt");
  const std::string cmd = exe + " " + args + " > /dev/null 2> " + err.string();
  const int status = std::system(cmd.c_str());
  std::string text;
  {
    std::ifstream in(err);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::filesystem::remove(err);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

/// Writes `text` to dir/name and returns the path.
inline std::string write_text(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  const std::filesystem::path p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

/// The run must end with exit code 2 and a one-line error containing `needle`.
inline void expect_error(const std::string& exe, const std::string& args, const std::filesystem::path& dir,
                         const std::string& needle) {
  const Outcome o = run_tool(exe, args, dir);
  INFO(exe << " " << args << "\nstderr: " << o.err);
  CHECK(o.code == 2);
  CHECK(o.err.find(needle) != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
}

}  // namespace gengap::testing
