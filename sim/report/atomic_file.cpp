#include "sim/report/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace qedisim {

bool is_special_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

std::string staging_path(const std::string& path) {
  return is_special_file(path) ? path : fmt::format("{}.tmp.{}", path, static_cast<long>(::getpid()));
}

void commit_staged(const std::string& staged, const std::string& path) {
  if (staged == path) return;
  if (std::rename(staged.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(staged.c_str());
    throw OutputError(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
}

void check_writable(const std::string& path) {
  if (is_special_file(path)) {  // opening a FIFO here could block: ask for permission only
    if (::access(path.c_str(), W_OK) != 0)
      throw OutputError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    return;
  }
  const std::string tmp = fmt::format("{}.tmp.{}", path, static_cast<long>(::getpid()));
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw OutputError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  std::fclose(f);
  std::remove(tmp.c_str());
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string tmp = staging_path(path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw OutputError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  const bool written = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    const int err = errno;
    if (tmp != path) std::remove(tmp.c_str());
    throw OutputError(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
  commit_staged(tmp, path);
}

}  // namespace qedisim
