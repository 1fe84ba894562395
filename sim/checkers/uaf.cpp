#include "sim/checkers/uaf.h"

#include <fmt/format.h>

#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

const char* access_word(kern::AccessKind k) {
  switch (k) {
    case kern::AccessKind::read:
      return "read";
    case kern::AccessKind::write:
      return "write";
    case kern::AccessKind::lock:
      return "lock";
    case kern::AccessKind::wake:
      return "wake";
    case kern::AccessKind::timer:
      return "timer callback";
    case kern::AccessKind::free:
      return "free";
  }
  return "access";
}

void UafChecker::use_after_free(const Site& at, const kern::ObjectHeader& h, std::uint32_t inc, kern::AccessKind kind,
                                std::string_view field) {
  const ObjRef obj = ref_of(&h, inc);
  if (!seen_.insert(fmt::format("{}|{}|{}", obj.key.text(), field, at.fn)).second) return;
  std::string msg;
  if (h.live && h.incarnation != inc) {
    // The slot was reused: the header's alloc fields belong to the new object.
    msg = fmt::format("{} of {} through a stale pointer: #{} ended, slot reused as #{} by {} {}", access_word(kind),
                      field, inc, h.incarnation, h.alloc_fn, where(Site{h.alloc_ns, h.alloc_ctx, ""}));
  } else if (h.incarnation != inc) {
    msg = fmt::format("{} of {} through a stale pointer: #{} ended; slot #{} freed by {} {}", access_word(kind), field,
                      inc, h.incarnation, h.free_fn, where(Site{h.free_ns, h.free_ctx, ""}));
  } else {
    msg = fmt::format("{} of {} after free; alloc {} {}, free {} {}", access_word(kind), field, h.alloc_fn,
                      where(Site{h.alloc_ns, h.alloc_ctx, ""}), h.free_fn, where(Site{h.free_ns, h.free_ctx, ""}));
  }
  report(at, obj.desc, at.fn, std::move(msg));
}

}  // namespace qedisim::checkers
