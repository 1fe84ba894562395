// Output files appear under their final name only when complete: the text is
// written to "<path>.tmp.<pid>" and renamed (docs/architecture.md; determinism).
#pragma once

#include <stdexcept>
#include <string>

namespace qedisim {

// An output file that cannot be written: a bad --report/--vcd path (exit 2).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Checks before a run that `path` can be written (creates and removes its
// temporary), so a bad --report/--vcd fails fast instead of after the run.
void check_writable(const std::string& path);

// Throws OutputError naming the path and the OS reason.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace qedisim
