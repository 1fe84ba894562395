#include "sim/checkers/tid_double_owner.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void TidDoubleOwnerChecker::tid_bound(const Site& at, std::uint16_t tid, const ObjRef& owner, const TidEntry* e) {
  if (!e || !e->owner_live() || e->owner.key == owner.key) return;
  std::string msg = fmt::format("tid given to {} while {} owns it", owner.desc, e->owner.desc);
  if (e->ever_cleared && e->last_clear.ns >= e->bound.ns)
    msg +=
        fmt::format("; cleared by {} at {} while the owner was still live", e->last_clear.fn, secs(e->last_clear.ns));
  else if (e->set)
    msg += "; bit still set";
  report(at, tid_name(tid), at.fn, std::move(msg));
}

void TidDoubleOwnerChecker::fw_task_init(const Site& at, std::uint16_t tid, const hba::FwTask& previous,
                                         const hba::FwTask& now, bool overwrote_held) {
  if (!overwrote_held) return;
  report(at, tid_name(tid), "qedi_ring_doorbell",
         fmt::format("firmware loaded the context for cid {} itt {:#x} over the one it still held ({}) for cid {} "
                     "itt {:#x}",
                     now.cid, now.itt, hba::to_string(previous.state), previous.cid, previous.itt));
}

}  // namespace qedisim::checkers
