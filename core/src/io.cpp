// Atomic writes, bounded reads, output checks, CSV.
#include "gengap/core/io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "gengap/core/error.hpp"

namespace gengap::core {
namespace fs = std::filesystem;

namespace {

std::string err_text(int e) { return std::strerror(e); }

/// A name for a temporary file next to `path`, unique to this process and call.
std::string temp_name(const std::string& path) {
  static std::atomic_uint64_t counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}

/// Creates `dir` and its parents; throws InvalidArgument(field, ...) naming the part that failed.
void make_dirs(const std::string& field, const fs::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InvalidArgument(field, dir.string(), "cannot create this folder (" + (ec ? ec.message() : std::string("not a folder")) + ")");
}

/// Creates and removes a probe file in `dir`.
void probe_dir(const std::string& field, const std::string& shown, const fs::path& dir) {
  const std::string probe = temp_name((dir / ".gengap-write-check").string());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    throw InvalidArgument(field, shown, "cannot write in the folder " + (dir.empty() ? std::string(".") : dir.string()) + " (" + err_text(e) + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

/// Checks that files can be created in `dir` without leaving anything behind: a folder that exists
/// gets a probe file (created and removed); one that does not yet exist is created with its missing
/// parents, probed, and removed again (write_file_atomic() creates it when the result is written).
void check_dir_writable(const std::string& field, const std::string& shown, const fs::path& dir) {
  const fs::path d = dir.empty() ? fs::path(".") : dir;
  std::error_code ec;
  if (fs::is_directory(d, ec)) {
    probe_dir(field, shown, d);
    return;
  }
  if (fs::exists(d, ec)) throw InvalidArgument(field, shown, "cannot create the folder " + d.string() + " (a file of that name exists)");
  // The missing folders, deepest first.
  std::vector<fs::path> missing;
  for (fs::path a = d; !a.empty() && !fs::exists(a, ec); a = a.parent_path()) {
    missing.push_back(a);
    if (a == a.parent_path()) break;
  }
  auto remove_created = [&] {
    for (const auto& m : missing) fs::remove(m, ec);  // deepest first; only folders this check made (empty)
  };
  fs::create_directories(d, ec);
  if (ec || !fs::is_directory(d)) {
    const std::string why = ec ? ec.message() : std::string("not a folder");
    remove_created();
    throw InvalidArgument(field, shown, "cannot create the folder " + d.string() + " (" + why + ")");
  }
  try {
    probe_dir(field, shown, d);
  } catch (...) {
    remove_created();
    throw;
  }
  remove_created();
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view data) {
  const fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec && !fs::is_directory(p.parent_path())) throw RuntimeError("cannot create the folder of " + path + ": " + ec.message());
  }
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError("cannot write " + path + ": " + err_text(errno));
  auto fail = [&](const std::string& step, int e, bool open) {
    if (open) ::close(fd);
    ::unlink(tmp.c_str());
    throw RuntimeError("cannot write " + path + " (" + step + "): " + err_text(e) + "; the previous content, if any, is kept");
  };
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", errno, true);
    }
    if (n == 0) fail("write", EIO, true);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) fail("fsync", errno, true);
  if (::close(fd) != 0) fail("close", errno, false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno, false);
  // Make the rename itself durable (best effort: some file systems refuse fsync on folders).
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

void check_path_text(const std::string& field, const std::string& path) {
  if (path.find('\0') != std::string::npos)
    throw InvalidArgument(field, path, "a path must not contain a NUL byte (it would name a shorter path)");
  if (!is_utf8(path)) throw InvalidArgument(field, path, "a path must be valid UTF-8 (paths are written into the JSON results)");
}

std::string read_file(const std::string& path, const std::string& field, std::uint64_t max_bytes) {
  check_path_text(field, path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InvalidArgument(field, path, "cannot open the file (" + err_text(errno) + ")");
  if (S_ISDIR(st.st_mode)) throw InvalidArgument(field, path, "is a folder, not a file");
  if (!S_ISREG(st.st_mode)) throw InvalidArgument(field, path, "is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw InvalidArgument(field, path, "is " + std::to_string(st.st_size) + " bytes, more than the " + std::to_string(max_bytes) +
                                           " this reader accepts");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InvalidArgument(field, path, "cannot open the file (" + err_text(errno) + ")");
  std::string out;
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  for (;;) {
    if (done == out.size()) out.resize(out.size() + 4096);  // the file may have grown
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw InvalidArgument(field, path, "cannot read the file (" + err_text(e) + ")");
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
    if (done > max_bytes) {
      ::close(fd);
      throw InvalidArgument(field, path, "is more than the " + std::to_string(max_bytes) + " bytes this reader accepts");
    }
  }
  ::close(fd);
  out.resize(done);
  return out;
}

void check_output_file(const std::string& field, const std::string& path) {
  if (path.empty()) return;
  check_path_text(field, path);
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) throw InvalidArgument(field, path, "is a folder; give a file name");
  if (!p.has_filename()) throw InvalidArgument(field, path, "names no file");
  check_dir_writable(field, path, p.parent_path());  // leaves nothing behind: a later refusal leaves no new folder
  if (fs::exists(p, ec) && !fs::is_regular_file(p, ec)) throw InvalidArgument(field, path, "exists and is not a regular file");
}

void check_output_dir(const std::string& field, const std::string& path) {
  if (path.empty()) throw InvalidArgument(field, "\"\"", "must name a folder");
  check_path_text(field, path);
  const fs::path p(path);
  std::error_code ec;
  if (fs::exists(p, ec) && !fs::is_directory(p, ec)) throw InvalidArgument(field, path, "exists and is not a folder");
  make_dirs(field, p);
  probe_dir(field, path, p);
}

void check_distinct_paths(const std::vector<std::pair<std::string, std::string>>& named) {
  std::vector<std::pair<std::string, fs::path>> seen;
  for (const auto& [field, path] : named) {
    if (path.empty()) continue;
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
    if (ec) p = fs::absolute(path).lexically_normal();
    for (const auto& [other, q] : seen) {
      if (p == q) throw InvalidArgument(field, path, "is the same file as --" + other + " (one would overwrite the other)");
    }
    seen.emplace_back(field, p);
  }
}

CsvTable parse_csv(std::string_view text, const std::string& where) {
  CsvTable t;
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    throw InvalidArgument("csv", where, "holds a NUL byte at offset " + std::to_string(nul) + " (not a text table)");
  // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t lineno = 0, pos = 0;
  bool seen_row = false;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::size_t a = 0;
    for (;;) {
      const std::size_t b = line.find(',', a);
      cells.push_back(line.substr(a, b == std::string::npos ? std::string::npos : b - a));
      if (b == std::string::npos) break;
      a = b + 1;
    }
    std::vector<double> vals;
    bool numeric = true;
    for (const auto& c : cells) {
      const char* s = c.c_str();
      while (*s == ' ' || *s == '\t') ++s;
      char* e = nullptr;
      errno = 0;
      const double v = std::strtod(s, &e);
      if (e == s) {
        numeric = false;
        break;
      }
      while (*e == ' ' || *e == '\t') ++e;
      if (*e != '\0') {
        numeric = false;
        break;
      }
      if (!std::isfinite(v))  // nan, inf, or beyond the range of a double (underflow to 0 is fine)
        throw InvalidArgument(where + ":" + std::to_string(lineno), line, "expected finite numbers (\"" + printable(c, 40) + "\" is not)");
      vals.push_back(v);
    }
    if (!numeric) {
      if (!seen_row && t.names.empty()) {
        for (auto c : cells) {
          const auto f = c.find_first_not_of(" \t\"");
          c.erase(0, f == std::string::npos ? c.size() : f);
          const auto l = c.find_last_not_of(" \t\"");
          c.erase(l == std::string::npos ? 0 : l + 1);
          for (const auto& n : t.names)
            if (n == c) throw InvalidArgument(where + ":" + std::to_string(lineno), printable(c, 60), "the header names this column twice");
          t.names.push_back(c);
        }
        continue;
      }
      throw InvalidArgument(where + ":" + std::to_string(lineno), line, "expected comma-separated numbers");
    }
    if (!seen_row) {
      if (!t.names.empty() && t.names.size() != vals.size())
        throw InvalidArgument(where + ":" + std::to_string(lineno), line,
                              "expected " + std::to_string(t.names.size()) + " columns, as the header has");
      t.cols.resize(vals.size());
      seen_row = true;
    }
    if (vals.size() != t.cols.size())
      throw InvalidArgument(where + ":" + std::to_string(lineno), line, "expected " + std::to_string(t.cols.size()) + " columns");
    for (std::size_t i = 0; i < vals.size(); ++i) t.cols[i].push_back(vals[i]);
  }
  if (!seen_row) throw InvalidArgument("csv", where, "holds no data rows");
  if (t.names.empty())
    for (std::size_t i = 0; i < t.cols.size(); ++i) t.names.push_back("col" + std::to_string(i));
  return t;
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_file(path, "csv"), path); }

}  // namespace gengap::core
