// Small helpers of the repro pipeline.
#include <fstream>
#include <iomanip>
#include <sstream>

#include "gengap/repro/experiment.hpp"

namespace gengap::repro {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw sim::InvalidArgument("file", p.string(), "cannot open");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::string hex64(std::uint64_t v) {
  std::ostringstream os;
  os << std::hex << std::setw(16) << std::setfill('0') << v;
  return os.str();
}

}  // namespace gengap::repro
