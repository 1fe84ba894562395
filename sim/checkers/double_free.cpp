#include "sim/checkers/double_free.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void DoubleFreeChecker::double_free(const Site& at, const kern::ObjectHeader& h, std::uint32_t inc) {
  const ObjRef obj = ref_of(&h, inc);
  std::string msg;
  if (h.incarnation == inc)
    msg = fmt::format("freed twice; first free by {} {}", h.free_fn, where(Site{h.free_ns, h.free_ctx, ""}));
  else
    msg = fmt::format("free through a stale pointer: #{} already ended, slot now #{} ({})", inc, h.incarnation,
                      h.live ? "live" : "free");
  report(at, obj.desc, at.fn, std::move(msg));
}

void DoubleFreeChecker::task_put(const Site& at, const ObjRef& task, int after) {
  if (after >= 0) return;
  report(at, task.desc, at.fn, fmt::format("refcount put below zero ({}): one iscsi_put_task too many", after));
}

void DoubleFreeChecker::tid_cleared(const Site& at, std::uint16_t tid, bool ok, const TidEntry* e) {
  // The driver's own test_and_clear says whether the bit was clear; the
  // shadow only explains who cleared it first.
  if (ok) return;
  std::string msg = "tid already cleared";
  if (e && e->ever_cleared)
    msg += fmt::format("; first clear by {} {}", e->last_clear.fn, where(e->last_clear));
  else
    msg += "; never allocated";
  report(at, tid_name(tid), at.fn, std::move(msg));
}

}  // namespace qedisim::checkers
