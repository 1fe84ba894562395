// null_deref (docs/invariants.md): a tracked pointer field holding NULL was
// dereferenced; the model abandons the kernel call. The finding names the
// pointer's owner and who set it to NULL when the model reported that
// (pointer_nulled).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class NullDerefChecker : public Checker {
 public:
  explicit NullDerefChecker(Findings& out) : Checker(InvariantId::null_deref, out) {}
  void pointer_nulled(const Site& at, const ObjRef& owner, std::string_view field, std::string_view pointee_type);
  // `pointee_type`: type of the NULL pointer's target; `field`: the field
  // read through it.
  void null_deref(const Site& at, std::string_view pointee_type, std::string_view field);

 private:
  struct Nulled {
    ObjRef owner;
    std::string field;
    Site at;
  };
  std::map<std::string, Nulled, std::less<>> last_nulled_;  // by pointee type
};

}  // namespace qedisim::checkers
