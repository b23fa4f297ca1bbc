// gengap::core: one-line printable errors, strict JSON, atomic files that survive a full disk, CSV,
// memory estimates.
#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>
#include <string>
#include <cctype>

#include <catch2/catch.hpp>

#include "gengap/core/blas.hpp"
#include "gengap/core/error.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"
#include "gengap/core/parallel.hpp"
#include "gengap/core/memory.hpp"

namespace {
namespace fs = std::filesystem;
using gengap::core::InvalidArgument;
using nlohmann::json;

fs::path scratch(const std::string& name) {
  const fs::path d = fs::path(GENGAP_TEST_TMP) / "core" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
}  // namespace

TEST_CASE("error messages are one printable line, however long or binary the value", "[core][errors]") {
  CHECK(gengap::core::printable("a\x01" "b\n") == "a\\x01b\\n");
  CHECK(gengap::core::printable("\xff") == "\\xff");
  const std::string big(1 << 20, 'x');
  const InvalidArgument e("name", big, "too long");
  const std::string m = e.what();
  CHECK(m.size() < 400);
  CHECK(m.find("(1048576 bytes)") != std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
  const InvalidArgument b("key\x02", std::string("\0\x7f\x80", 3), "binary");
  CHECK(std::string(b.what()) == "key\\x02 = \\x00\\x7f\\x80: binary");
}

TEST_CASE("parse_json refuses duplicate keys, numbers beyond double and malformed text, naming the source", "[core][json]") {
  CHECK(gengap::core::parse_json(R"({"a": 1, "b": {"a": 2}})", "f.json")["b"]["a"] == 2);  // the same key in two objects is fine
  CHECK_THROWS_WITH(gengap::core::parse_json(R"({"a": 1, "a": 2})", "f.json"), "a = (given twice): duplicate key in f.json");
  CHECK_THROWS_WITH(gengap::core::parse_json(R"({"b": {"x": 1, "x": 1}})", "f.json"), Catch::StartsWith("x = (given twice)"));
  CHECK_THROWS_WITH(gengap::core::parse_json(R"({"a": 1e400})", "f.json"), Catch::StartsWith("config = f.json: malformed JSON"));
  CHECK_THROWS_WITH(gengap::core::parse_json("{\"a\": \x01}", "f.json"), Catch::StartsWith("config = f.json: malformed JSON"));
  CHECK_THROWS_WITH(gengap::core::parse_json(R"({"a": 1} x)", "f.json"), Catch::StartsWith("config = f.json: malformed JSON"));
  const fs::path d = scratch("json");
  CHECK_THROWS_WITH(gengap::core::read_json_file(d.string()), Catch::Contains("is a folder"));
  CHECK_THROWS_WITH(gengap::core::read_json_file((d / "none.json").string()), Catch::Contains("cannot open"));
}

TEST_CASE("json_as converts strictly: no fraction for integers, no sign for unsigned, no overflow, no other type", "[core][json]") {
  using gengap::core::json_as;
  CHECK(json_as<int>(json(10), "n", "") == 10);
  CHECK(json_as<int>(json(1e3), "n", "") == 1000);  // an integral number in exponent form
  CHECK_THROWS_WITH(json_as<int>(json(10.7), "n", "in c.json"), Catch::StartsWith("n = 10.7: expected an integer") && Catch::EndsWith("in c.json"));
  CHECK_THROWS_WITH(json_as<std::uint64_t>(json(-1), "seed", ""), Catch::StartsWith("seed = -1: expected an integer in [0,"));
  CHECK_THROWS_WITH(json_as<std::int64_t>(json(1e30), "e", ""), Catch::StartsWith("e = 1e+30: expected an integer"));
  CHECK_THROWS_WITH(json_as<std::int64_t>(json(9223372036854775808.0), "e", ""), Catch::StartsWith("e = "));
  CHECK(json_as<std::uint64_t>(json(18446744073709551615ull), "u", "") == 18446744073709551615ull);
  CHECK_THROWS_WITH(json_as<std::uint32_t>(json(4294967296ll), "u", ""), Catch::StartsWith("u = 4294967296"));
  CHECK_THROWS_WITH((json_as<std::vector<int>>(json::parse("[1, 1.9]"), "dims", "")), Catch::StartsWith("dims[1] = 1.9"));
  CHECK_THROWS_WITH(json_as<double>(json("4"), "tol", "in c.json"), "tol = \"4\": expected a number in c.json");
  CHECK_THROWS_WITH(json_as<bool>(json(1), "flag", ""), Catch::StartsWith("flag = 1: expected true or false"));
  CHECK_THROWS_WITH(json_as<std::string>(json(1), "name", ""), Catch::StartsWith("name = 1: expected a string"));
}

TEST_CASE("ObjectReader names missing, mistyped and unknown fields with their path", "[core][json]") {
  const json j = json::parse(R"({"a": 1, "claims": {"gap": {"min": "x"}}, "enviroments": 3, "note": "free text"})");
  gengap::core::ObjectReader r(j, "in c.json");
  int a = 0;
  r.required("a", a);
  CHECK(a == 1);
  int b = 7;
  CHECK_FALSE(r.optional("b", b));
  CHECK(b == 7);
  CHECK_THROWS_WITH(r.required("c", b), "c = (missing): required field in c.json");
  gengap::core::ObjectReader gap = r.child("claims").child("gap");
  double m = 0;
  CHECK_THROWS_WITH(gap.required("min", m), "claims.gap.min = \"x\": expected a number in c.json");
  r.ignore_notes();
  CHECK_THROWS_WITH(r.finish(), Catch::StartsWith("enviroments = 3: unknown field in c.json (known:"));
}

TEST_CASE("write_file_atomic replaces a file whole, and on a full disk keeps the old content and leaves no temporary", "[core][io]") {
  const fs::path d = scratch("atomic");
  const std::string p = (d / "sub" / "out.txt").string();
  gengap::core::write_file_atomic(p, "first\n");
  CHECK(slurp(p) == "first\n");
  gengap::core::write_file_atomic(p, "second\n");
  CHECK(slurp(p) == "second\n");
  // A full disk, for any user: a file-size limit of 16 KiB makes the write fail (EFBIG) mid-file.
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{16 * 1024, 16 * 1024};
    setrlimit(RLIMIT_FSIZE, &lim);
    try {
      gengap::core::write_file_atomic(p, std::string(100000, 'z'));
    } catch (const gengap::core::RuntimeError& e) {
      _exit(std::string(e.what()).find("cannot write " + p) == 0 ? 3 : 4);
    }
    _exit(5);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);  // a RuntimeError naming the file
  CHECK(slurp(p) == "second\n");     // the good file is kept
  int files = 0;
  for (const auto& e : fs::directory_iterator(d / "sub")) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);  // no temporary left behind
  CHECK_THROWS_AS(gengap::core::write_file_atomic((d / "sub").string(), "x"), gengap::core::RuntimeError);  // a folder
}

TEST_CASE("output paths are checked before any work", "[core][io]") {
  const fs::path d = scratch("outputs");
  gengap::core::check_output_file("json", "");  // none asked for
  gengap::core::check_output_file("json", (d / "new" / "deeper" / "r.json").string());
  CHECK(!fs::exists(d / "new"));  // nothing is created by a check: a later refusal leaves no folder behind
  gengap::core::check_output_file("json", (d / "r.json").string());
  CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 0);  // the probe is gone
  CHECK_THROWS_WITH(gengap::core::check_output_file("json", d.string()), Catch::StartsWith("json = " + d.string() + ": is a folder"));
  std::ofstream(d / "plain") << "x";
  CHECK_THROWS_WITH(gengap::core::check_output_file("csv", (d / "plain" / "r.csv").string()), Catch::StartsWith("csv = "));
  CHECK_THROWS_WITH(gengap::core::check_output_dir("out", (d / "plain").string()), Catch::Contains("not a folder"));
  CHECK_THROWS_WITH(gengap::core::check_output_file("json", "/proc/gengap-test/r.json"), Catch::StartsWith("json = "));
}

TEST_CASE("hostile paths: a NUL byte or invalid UTF-8 is refused before anything is created", "[core][io]") {
  const fs::path d = scratch("hostile-paths");
  const std::string with_nul = (d / "a").string() + std::string(1, '\0') + "b.json";
  CHECK_THROWS_WITH(gengap::core::check_output_file("json", with_nul), Catch::Contains("NUL byte"));
  CHECK_THROWS_WITH(gengap::core::check_output_dir("out", (d / "x").string() + std::string(1, '\0')), Catch::Contains("NUL byte"));
  CHECK_THROWS_WITH(gengap::core::read_file((d / "in").string() + std::string(1, '\0') + "x", "csv"), Catch::Contains("NUL byte"));
  CHECK_THROWS_WITH(gengap::core::check_output_file("json", (d / "a\xff.json").string()), Catch::Contains("valid UTF-8"));
  CHECK_THROWS_WITH(gengap::core::check_output_dir("out", (d / "\xc0\xaf").string()), Catch::Contains("valid UTF-8"));  // overlong '/'
  CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 0);
  CHECK(gengap::core::is_utf8("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(gengap::core::is_utf8("\xed\xa0\x80"));  // a surrogate
  CHECK_FALSE(gengap::core::is_utf8("\xe2\x82"));       // truncated
  // Two outputs naming one file, also through another spelling of the path.
  CHECK_THROWS_WITH(gengap::core::check_distinct_paths({{"json", (d / "r").string()}, {"csv", (d / "." / "r").string()}}),
                    Catch::Contains("same file as --json"));
  gengap::core::check_distinct_paths({{"json", (d / "r.json").string()}, {"csv", (d / "r.csv").string()}, {"x", ""}});
}

TEST_CASE("hostile JSON: deep nesting and NUL bytes are refused with one line, and errors never dump a value whole", "[core][json]") {
  const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK_THROWS_WITH(gengap::core::parse_json(deep, "x.json"), Catch::Contains("nested deeper than 64 levels"));
  const std::string ok = "{\"a\": " + std::string(60, '[') + std::string(60, ']') + "}";
  CHECK_NOTHROW(gengap::core::parse_json(ok, "x.json"));
  const std::string nul = std::string("{\"a\": 1}") + std::string(1, '\0') + "{\"b\": 2}";
  CHECK_THROWS_WITH(gengap::core::parse_json(nul, "x.json"), Catch::Contains("NUL byte at offset 8"));
  // A long array in an error message is summarized.
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) big.push_back(i);
  const std::string e = gengap::core::json_excerpt(big);
  CHECK(e.size() < 200);
  CHECK_THAT(e, Catch::Contains("100000 elements"));
  nlohmann::json nested = nlohmann::json::array();
  nlohmann::json* at = &nested;
  for (int i = 0; i < 100000; ++i) {  // built by code (parse_json would refuse it): never walked recursively
    at->push_back(nlohmann::json::array());
    at = &(*at)[0];
  }
  CHECK(gengap::core::json_excerpt(nested) == "[[...]]");
  CHECK_THROWS_WITH(gengap::core::json_as<int>(nested, "n", ""), Catch::StartsWith("n = [[...]]"));
  // nlohmann's destructor is recursive in 3.11: take the value apart iteratively.
  while (!nested.empty() && !nested[0].empty()) {
    nlohmann::json inner = std::move(nested[0][0]);
    nested = std::move(inner);
  }
}

TEST_CASE("hostile CSV: NUL bytes and duplicated header columns are refused, and a UTF-8 byte-order mark is not part of a name", "[core][io]") {
  CHECK_THROWS_WITH(gengap::core::parse_csv(std::string("t,d\n1,2") + std::string(1, '\0') + "3\n", "x.csv"), Catch::Contains("NUL byte"));
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d,d\n1,2,3\n", "x.csv"), Catch::Contains("names this column twice"));
  const auto t = gengap::core::parse_csv("\xEF\xBB\xBFt,msd\n1,2\n", "x.csv");
  CHECK(t.names == std::vector<std::string>{"t", "msd"});
}

TEST_CASE("parse_csv reads finite numbers under a header and names the line of anything else", "[core][io]") {
  const auto t = gengap::core::parse_csv("# comment\nt,d\n1,2\n\n3,4.5\n", "x.csv");
  REQUIRE(t.names == std::vector<std::string>{"t", "d"});
  CHECK(t.cols[1] == std::vector<double>{2, 4.5});
  CHECK(gengap::core::parse_csv("1,2\n", "x.csv").names == std::vector<std::string>{"col0", "col1"});
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d\n1,nan\n", "x.csv"), Catch::StartsWith("x.csv:2 = 1,nan: expected finite numbers"));
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d\n1,1e999\n", "x.csv"), Catch::StartsWith("x.csv:2"));
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d\n1,2\n3\n", "x.csv"), Catch::StartsWith("x.csv:3 = 3: expected 2 columns"));
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d,e\n1,2\n", "x.csv"), Catch::StartsWith("x.csv:2"));
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d\n", "x.csv"), "csv = x.csv: holds no data rows");
  CHECK_THROWS_WITH(gengap::core::parse_csv("t,d\n1,2\nx,y\n", "x.csv"), Catch::Contains("expected comma-separated numbers"));
}

TEST_CASE("keep_freed_memory: a freed 8 MiB block stays with the process, not a fresh mmap", "[core][memory]") {
#if defined(__GLIBC__)
  REQUIRE(gengap::core::keep_freed_memory());
  const std::size_t size = std::size_t{8} << 20;
  const auto before = mallinfo2();
  auto* p = static_cast<volatile char*>(std::malloc(size));
  REQUIRE(p != nullptr);
  for (std::size_t i = 0; i < size; i += 4096) p[i] = 1;
  const auto during = mallinfo2();
  std::free(const_cast<char*>(p));
  const auto after = mallinfo2();
  CHECK(during.hblkhd == before.hblkhd);  // from the heap, not mmap
  CHECK(after.fordblks >= size);          // kept for reuse, not trimmed
#else
  CHECK_FALSE(gengap::core::keep_freed_memory());
#endif
}

TEST_CASE("require_memory refuses estimates beyond the machine's memory or GENGAP_MEMORY_LIMIT", "[core][memory]") {
  CHECK(gengap::core::memory_budget_bytes() > 1e8);
  CHECK_NOTHROW(gengap::core::require_memory("n", "1", 1e6, "n x 8 B"));
  CHECK_THROWS_WITH(gengap::core::require_memory("n", "1e30", 1e30, "n x 8 B"),
                    Catch::StartsWith("n = 1e30: needs about") && Catch::Contains("(n x 8 B), more than the"));
  setenv("GENGAP_MEMORY_LIMIT", "1M", 1);
  CHECK(gengap::core::memory_budget_bytes() == 1024.0 * 1024);
  CHECK_THROWS_WITH(gengap::core::require_memory("n", "2", 2e6, "n x 8 B"), Catch::Contains("allowed by GENGAP_MEMORY_LIMIT"));
  setenv("GENGAP_MEMORY_LIMIT", "lots", 1);
  CHECK_THROWS_WITH(gengap::core::memory_budget_bytes(), Catch::StartsWith("GENGAP_MEMORY_LIMIT = lots"));
  unsetenv("GENGAP_MEMORY_LIMIT");
  CHECK(gengap::core::format_bytes(1536) == "1.5 KiB");
}

TEST_CASE("parallel_for: every item once, the first error rethrown, a throwing progress stops the run", "[core][parallel]") {
  std::vector<std::atomic<int>> hits(1000);
  gengap::core::parallel_for(1000, 2, [&](std::uint32_t i) { ++hits[i]; }, {});
  for (auto& h : hits) REQUIRE(h.load() == 1);

  REQUIRE_THROWS_WITH(gengap::core::parallel_for(100, 2, [](std::uint32_t i) { if (i == 7) throw std::runtime_error("item 7"); }, {}),
                      "item 7");

  // A caller that asks to stop (its progress throws) gets its exception once the items under way end;
  // no further item starts.
  struct Stop {};
  std::atomic<int> started{0};
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_THROWS_AS(gengap::core::parallel_for(
                        10000, 2,
                        [&](std::uint32_t) {
                          ++started;
                          std::this_thread::sleep_for(std::chrono::milliseconds(20));
                        },
                        [](double) { throw Stop{}; }),
                    Stop);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(started.load() < 100);  // 10000 items of 20 ms would take 100 s on 2 threads
  CHECK(seconds < 10);
}

TEST_CASE("blas_kernel_name: empty without OpenBLAS, OpenBLAS's own answer once one is loaded privately", "[core][blas]") {
  // core_tests links no BLAS: nothing to name.
  CHECK(gengap::core::blas_kernel_name().empty());
  // Loaded as Python loads an extension's dependencies (RTLD_LOCAL: outside the global scope).
  void* h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    WARN("no libopenblas.so.0 on this machine: only the empty case checked");
    return;
  }
  using CoreName = const char* (*)();
  const auto own = reinterpret_cast<CoreName>(dlsym(h, "openblas_get_corename"));  // NOLINT
  REQUIRE(own != nullptr);
  const std::string name = gengap::core::blas_kernel_name();
  CHECK(name == own());
  CHECK_FALSE(name.empty());
  if (const char* env = std::getenv("OPENBLAS_CORETYPE"); env != nullptr && *env != '\0') {
    // OpenBLAS follows the variable: the name is the variable's family, up to case.
    auto lower = [](std::string v) {
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return v;
    };
    CHECK(lower(name) == lower(env));
  }
  dlclose(h);
}
