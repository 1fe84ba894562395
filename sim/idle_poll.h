// The safety-net wake-up of an observer method (the end monitor, the model
// tracer): run it again `period` after its last run when no activity event
// came in between. A timeout per run (next_trigger(period, events)) put a
// timed notification into SystemC's queue at every model event; this keeps
// at most one pending and re-arms it for the rest of the period when it
// fires early. The owner registers two methods: its work, statically
// sensitive to the activity events and calling ran() at the end, and a poll
// method sensitive to event() that calls the work when due() says so.
#pragma once

#include <cstdint>
#include <systemc>

namespace qedisim {

class IdlePoll {
 public:
  explicit IdlePoll(std::int64_t period_ns) : period_ns_(period_ns) {}

  const sc_core::sc_event& event() const { return event_; }

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
    if (!armed_) arm(period_ns_);
  }

 private:
  void arm(std::int64_t in_ns) {
    static const sc_core::sc_time::value_type ticks_per_ns = sc_core::sc_time(1, sc_core::SC_NS).value();
    event_.notify(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(in_ns) * ticks_per_ns));
    armed_ = true;
  }

  const std::int64_t period_ns_;
  sc_core::sc_event event_;
  std::int64_t last_run_ns_ = 0;
  bool armed_ = false;
};

}  // namespace qedisim
