#include "sim/checkers/tid_leak.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void TidLeakChecker::check(std::int64_t now_ns, TidShadow& tids, bool quiescent) {
  const std::uint32_t in_use = tids.in_use();
  const std::uint32_t owners = tids.live_owners();
  for (auto& [tid, e] : tids.entries()) {
    if (tid == 0 || !e.set || e.leak_reported || e.owner_live()) continue;
    // Allocated and not bound since: at a quiescent point nobody will bind it;
    // at the end of a run cut off mid-call its allocating call may still be
    // on its way to the bind (the leak scan skips such an end too).
    const bool fresh = !e.bound_since_allocated();
    if (fresh && !quiescent) continue;
    std::string fate;
    if (fresh)
      fate = "never bound to a task";
    else if (e.owner_moved)
      fate = fmt::format("for {}, then {} in {} at {}", e.owner.desc, e.moved_text(), e.owner_gone_at.fn,
                         secs(e.owner_gone_at.ns));
    else
      fate = fmt::format("for {}, which {} freed at {}", e.owner.desc, e.owner_gone_at.fn, secs(e.owner_gone_at.ns));
    e.leak_reported = true;
    report(Site{now_ns, "checker", ""}, tid_name(tid), e.allocated.fn,
           fmt::format("set at quiescence; allocated by {} {} {}; in use {}, owners {}", e.allocated.fn,
                       where(e.allocated), fate, in_use, owners));
  }
}

}  // namespace qedisim::checkers
