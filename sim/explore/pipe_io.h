// Writing a whole buffer to a pipe, retrying short writes and EINTR: the
// forked runs send their results to the parent this way.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <string>

namespace qedisim {

inline void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace qedisim
