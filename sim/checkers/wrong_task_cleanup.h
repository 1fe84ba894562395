// wrong_task_cleanup (docs/invariants.md). Each TASK_CLEANUP WQE is tagged with the
// task the driver meant; when the firmware runs it, the current owner of the
// tid must be that task (an idle tid is fine: the victim had finished). Each
// ABORT TASK is tagged with the victim libiscsi named; when it leaves, the
// owner of the tid its RTT references must be that victim.
#pragma once

#include <cstdint>
#include <deque>
#include <map>

#include "sim/checkers/checker.h"
#include "sim/checkers/tid_shadow.h"

namespace qedisim::checkers {

class WrongTaskCleanupChecker : public Checker {
 public:
  explicit WrongTaskCleanupChecker(Findings& out) : Checker(InvariantId::wrong_task_cleanup, out) {}
  void cleanup_posted(const Site& at, std::uint16_t tid, const ObjRef& meant);
  // The firmware ran a TASK_CLEANUP for tid (FwObserver::on_cleanup).
  void fw_cleanup(const Site& at, std::uint16_t tid, const TidShadow& tids);
  void abort_sent(const Site& at, std::uint16_t rtt_tid, const ObjRef& victim, const TidShadow& tids);

 private:
  struct Posted {
    ObjRef meant;
    Site at;
  };
  std::map<std::uint16_t, std::deque<Posted>> pending_;  // by tid, in SQ order
};

}  // namespace qedisim::checkers
