#include "sim/checkers/null_deref.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void NullDerefChecker::pointer_nulled(const Site& at, const ObjRef& owner, std::string_view field,
                                      std::string_view pointee_type) {
  last_nulled_[std::string(pointee_type)] = Nulled{owner, std::string(field), at};
}

void NullDerefChecker::null_deref(const Site& at, std::string_view pointee_type, std::string_view field) {
  const auto it = last_nulled_.find(pointee_type);
  if (it != last_nulled_.end()) {
    const Nulled& n = it->second;
    report(at, n.owner.desc, at.fn,
           fmt::format("{} is NULL (set by {}); call abandoned at {}", n.field, by(n.at), field));
    return;
  }
  report(at, fmt::format("{} NULL", pointee_type), at.fn,
         fmt::format("dereference of a NULL {} pointer ({}); call abandoned", pointee_type, field));
}

}  // namespace qedisim::checkers
