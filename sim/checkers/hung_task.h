// hung_task (docs/invariants.md). A context is blocked from entering one logical
// wait (wait queue, mutex, completion, or an msleep loop re-testing one
// condition) until it leaves it; idle waits for new work do not count.
// Fires (1) when a context stays blocked longer than the limit, once per
// wait, stamped at begin + limit; (2) on a global deadlock (the testbench
// says nothing timed is pending) with at least one context blocked, giving
// the wait-for chain through held locks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/checkers/checker.h"

namespace qedisim::checkers {

class HungTaskChecker : public Checker {
 public:
  HungTaskChecker(Findings& out, std::int64_t limit_ns) : Checker(InvariantId::hung_task, out), limit_ns_(limit_ns) {}
  void wait_begin(const Site& at, std::string_view what, bool idle);
  void wait_end(const Site& at, bool timed_out);
  void condition_met(const Site& at);
  // (1) for every wait blocked past the limit by now.
  void tick(std::int64_t now_ns);
  // (2) nothing timed pending; `held`: locks each context holds, by context name.
  void no_pending_activity(std::int64_t now_ns, const std::map<std::string, std::vector<std::string>>& held);

  // The open wait of a context, for other checkers (lost wakeups).
  struct Wait {
    std::string what;
    Site begin;
    bool idle = false;
    bool fired = false;
    std::int64_t condition_met_ns = -1;
    bool open = false;  // a context's entry stays after its wait ends, for the next one to reuse
  };
  const Wait* open_wait(Name ctx) const;

 private:
  std::int64_t limit_ns_;
  Wait* find(Name ctx) const;
  std::map<Name, Wait> waits_;                        // by context name (reports list them in its order)
  std::unordered_map<Name, Wait*, NameHash> by_ctx_;  // the same entries, looked up by address only
  bool deadlock_reported_ = false;
  // No open wait can pass the limit before this time (a lower bound, made
  // exact again by each scan): tick() scans only once it is reached.
  std::int64_t next_due_ns_ = INT64_MAX;
};

}  // namespace qedisim::checkers
