#include "sim/report/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

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

StagedFile::StagedFile(std::string path, std::size_t buffer) : path_(std::move(path)), staged_(staging_path(path_)) {
  f_ = std::fopen(staged_.c_str(), "wb");
  if (!f_) throw OutputError(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  if (buffer != 0) std::setvbuf(f_, nullptr, _IOFBF, buffer);
}

void StagedFile::commit() {
  if (!f_) return;
  const bool write_failed = std::ferror(f_) != 0;
  const bool closed = std::fclose(f_) == 0 && !write_failed;
  f_ = nullptr;
  if (!closed) {
    const int err = errno;
    if (staged_ != path_) std::remove(staged_.c_str());
    throw OutputError(fmt::format("cannot write {}: {}", path_, std::strerror(err)));
  }
  commit_staged(staged_, path_);
}

void StagedFile::abandon() {
  if (!f_) return;
  std::fclose(f_);
  f_ = nullptr;
  if (staged_ != path_) std::remove(staged_.c_str());
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  StagedFile f(path);
  f.write(contents);
  f.commit();
}

}  // namespace qedisim
