// unnecessary_escalation (docs/invariants.md). When scsi-ml escalates a command
// past abort, the checker judges that command's last abort attempt
// (iscsi_eh_abort entry to return). It fires if a driver cause explains the
// failure and no outside cause exists.
// Driver causes: (A) a non-sleeping allocation (GFP_ATOMIC) serving the
// attempt failed in a context that could sleep, and no ABORT TASK left the
// host; (B) a wait serving it ended only at its timeout although its
// condition had held (or all it awaited had been handled) `wake_slack`
// earlier: the EH's own wait (same context) or the session's victim
// cleanup wait.
// Outside causes: a link or conn failure during the attempt other than the
// one the attempt raises itself (same context, after its TMF timed out); a
// target, firmware or link failpoint acting on the session during the
// attempt (drop, reject, delay); a failed allocation that was allowed to
// sleep (real out of memory). An injected allocation failure counts only
// through alloc_failed, by its flag and context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/checkers/checker.h"
#include "sim/checkers/cleanup_stall.h"
#include "sim/checkers/fault_observer.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class UnnecessaryEscalationChecker : public Checker {
 public:
  UnnecessaryEscalationChecker(Findings& out, std::int64_t wake_slack_ns)
      : Checker(InvariantId::unnecessary_escalation, out), slack_ns_(wake_slack_ns) {}
  void abort_begin(const Site& at, const ObjRef& cmd, long session);
  void abort_end(const Site& at, const ObjRef& cmd, bool success);
  void escalation(const Site& at, const ObjRef& cmd, EhLevel level);
  // `session`: the session the allocation was for (-1: unknown, every one).
  void alloc_failed(const Site& at, Gfp gfp, std::string_view site, bool could_sleep, long session);
  void abort_sent(const Site& at, long session);
  void conn_failed(const Site& at, long session);
  void fault(const InjectedFault& f);
  // A wait in context at.ctx ended at its timeout; its condition held since
  // condition_met_ns (-1: never).
  void wait_timed_out(const Site& at, const std::string& what, std::int64_t condition_met_ns);
  void cleanup_wait_stalled(const Site& at, const StalledWait& w);
  void forget(const ObjRef& cmd);

 private:
  struct Attempt {
    ObjRef cmd;
    long session = -1;
    Site begin;
    bool open = true;
    bool success = false;
    bool abort_left = false;
    std::string alloc_cause;  // (A)
    std::string wait_cause;   // (B)
    std::string outside;
  };
  bool affects(const InjectedFault& f, const Attempt& a) const;
  std::int64_t slack_ns_;
  std::map<ObjKey, Attempt> attempts_;       // by cmd issue key, the latest attempt
  std::deque<InjectedFault> recent_faults_;  // delays that may reach into a later attempt
};

}  // namespace qedisim::checkers
