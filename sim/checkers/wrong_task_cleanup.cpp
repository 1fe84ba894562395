#include "sim/checkers/wrong_task_cleanup.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void WrongTaskCleanupChecker::cleanup_posted(const Site& at, std::uint16_t tid, const ObjRef& meant) {
  pending_[tid].push_back(Posted{meant, at});
}

void WrongTaskCleanupChecker::fw_cleanup(const Site& at, std::uint16_t tid, const TidShadow& tids) {
  const auto it = pending_.find(tid);
  if (it == pending_.end() || it->second.empty()) return;
  const Posted p = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) pending_.erase(it);
  const TidEntry* e = tids.find(tid);
  // Idle tid: the victim had finished and nobody took it since.
  if (!e || !e->set || !e->has_owner || p.meant.is_null() || e->owner.key == p.meant.key) return;
  report(at, tid_name(tid), "qedi_iscsi_cleanup_task",
         fmt::format("cleanup meant for {} hit task {}; posted by {} {}", p.meant.desc, e->owner.desc, p.at.fn,
                     where(p.at)));
}

void WrongTaskCleanupChecker::abort_sent(const Site& at, std::uint16_t rtt_tid, const ObjRef& victim,
                                         const TidShadow& tids) {
  const TidEntry* e = tids.find(rtt_tid);
  if (!e || !e->set || !e->has_owner || victim.is_null() || e->owner.key == victim.key) return;
  report(at, tid_name(rtt_tid), at.fn,
         fmt::format("ABORT TASK meant for victim {} references a tid now owned by {}", victim.desc, e->owner.desc));
}

}  // namespace qedisim::checkers
