// uaf (docs/invariants.md): an access (read, write, lock, wake, timer callback)
// through a pointer whose object is freed or whose incarnation has ended.
// The kernel layer detects it (KPtr::use); this checker words the finding,
// once per object incarnation, field and function.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "host_driver_model/kernel/observer.h"
#include "sim/checkers/checker.h"

namespace qedisim::kern {
struct ObjectHeader;
}

namespace qedisim::checkers {

class UafChecker : public Checker {
 public:
  explicit UafChecker(Findings& out) : Checker(InvariantId::uaf, out) {}
  void use_after_free(const Site& at, const kern::ObjectHeader& h, std::uint32_t taken_incarnation,
                      kern::AccessKind kind, std::string_view field);

 private:
  std::set<std::string> seen_;
};

const char* access_word(kern::AccessKind k);

}  // namespace qedisim::checkers
