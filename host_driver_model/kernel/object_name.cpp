#include "host_driver_model/kernel/object_name.h"

#include <charconv>
#include <cstring>

namespace qedisim::kern {

void ObjectName::build() const {
  // By hand: three 32-bit numbers (10 digits at most) and 10 characters.
  char buf[48];
  char* p = buf;
  *p++ = 's';
  p = std::to_chars(p, p + 10, n_[0]).ptr;
  if (kind_ == Kind::task) {
    std::memcpy(p, " itt 0x", 7);
    p += 7;
    if (n_[1] < 0x10) *p++ = '0';
    p = std::to_chars(p, p + 8, n_[1], 16).ptr;
  } else {
    std::memcpy(p, " lun", 4);
    p += 4;
    p = std::to_chars(p, p + 10, n_[1]).ptr;
    std::memcpy(p, " tag ", 5);
    p += 5;
    p = std::to_chars(p, p + 10, n_[2]).ptr;
  }
  text_.assign(buf, static_cast<std::size_t>(p - buf));
  built_ = true;
}

}  // namespace qedisim::kern
