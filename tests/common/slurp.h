// A file's whole contents, byte for byte ("" when it cannot be read): what
// the tests compare written outputs (reports, logs, VCDs) against.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace qedisim::test {

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace qedisim::test
