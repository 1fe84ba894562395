// Output files appear under their final name only when complete: the text is
// written to "<path>.tmp.<pid>" and renamed (docs/architecture.md; determinism).
#pragma once

#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace qedisim {

// An output file that cannot be written: a bad --report/--vcd path (exit 2).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An existing path that is not a regular file (/dev/null, /dev/stdout, a
// FIFO): written in place, never replaced by a rename.
bool is_special_file(const std::string& path);

// Where the contents of `path` are written first: "<path>.tmp.<pid>", or
// `path` itself when it is special.
std::string staging_path(const std::string& path);

// Moves the staged file to `path` (nothing to do when they are the same);
// on failure removes it and throws OutputError.
void commit_staged(const std::string& staged, const std::string& path);

// Checks before a run that `path` can be written (creates and removes its
// temporary), so a bad --report/--vcd fails fast instead of after the run.
void check_writable(const std::string& path);

// An output file written piece by piece: into its staging file, which
// commit() moves to `path` once complete. One that is not committed (an
// exception on the way, abandon()) leaves nothing behind. Default: none,
// every operation a no-op and bool false.
class StagedFile {
 public:
  StagedFile() = default;
  // Opens the staging file (with a `buffer`-byte stdio buffer if nonzero);
  // throws OutputError naming `path` and the OS reason.
  explicit StagedFile(std::string path, std::size_t buffer = 0);
  ~StagedFile() { abandon(); }
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  explicit operator bool() const { return f_ != nullptr; }
  // Errors surface at commit().
  void write(std::string_view text) {
    if (f_) std::fwrite(text.data(), 1, text.size(), f_);
  }
  // Closes it and moves it to `path`; if any write or the close failed,
  // removes it and throws OutputError.
  void commit();
  void abandon();  // closes and removes it

 private:
  std::string path_, staged_;
  std::FILE* f_ = nullptr;
};

// Throws OutputError naming the path and the OS reason.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace qedisim
