// The safety-net wake-up of an observer method (the end monitor, the model
// tracer): run it again `period` after its last run when no activity event
// came in between. A timeout per run (next_trigger(period, events)) put a
// timed notification into SystemC's queue at every model event; this keeps
// at most one pending and re-arms it for the rest of the period when it
// fires early. The owner registers two methods: its work, statically
// sensitive to the activity events and calling ran() at the end, and a poll
// method sensitive to event() that calls the work when due() says so.
//
// Polls through an idle stretch are skipped: when ran() finds nothing left
// to run at this instant and the model's next timed wake-up (Timeline) later
// than a period away, nothing in the model can change before it, so every
// poll in between would find what this run found. The poll is armed for the
// first time of its chain (last run + k periods) at or after that wake-up:
// the polls that can see a change run at the times they always would.
#pragma once

#include <cstdint>
#include <optional>
#include <systemc>

#include "common/timeline.h"

namespace qedisim {

class IdlePoll {
 public:
  explicit IdlePoll(std::int64_t period_ns) : period_ns_(period_ns) {}

  const sc_core::sc_event& event() const { return event_.event(); }

  // In the poll method: true when a whole period passed since the last run
  // (run the work now); otherwise re-arms for what is left of it.
  bool due(std::int64_t now_ns) {
    armed_ = false;
    const std::int64_t at = last_run_ns_ + period_ns_;
    if (now_ns >= at) return true;
    arm(at - now_ns);
    return false;
  }
  // At the end of every run of the work that wants the next poll.
  void ran(std::int64_t now_ns) {
    last_run_ns_ = now_ns;
    if (armed_) return;
    std::int64_t in = period_ns_;
    if (!sc_core::sc_pending_activity_at_current_time()) {
      const std::optional<std::int64_t> next = Timeline::get().next_model_ns();
      if (next && *next - now_ns > period_ns_) in = (*next - now_ns + period_ns_ - 1) / period_ns_ * period_ns_;
    }
    arm(in);
  }

 private:
  void arm(std::int64_t in_ns) {
    event_.notify_in(in_ns);
    armed_ = true;
  }

  const std::int64_t period_ns_;
  TimedEvent event_{TimedEvent::Kind::observer};
  std::int64_t last_run_ns_ = 0;
  bool armed_ = false;
};

}  // namespace qedisim
