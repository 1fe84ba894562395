// Kernel timers (include/linux/timer.h) on one timer wheel: a single SystemC
// thread runs every callback at its expiry, in the "timer" context, which
// may not sleep (softirq) but may spin on a contended spinlock, as a softirq
// on one CPU spins while another CPU holds the lock. Per-command timers cost
// no SystemC process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <systemc>
#include <vector>

#include "common/duration.h"
#include "common/timeline.h"
#include "host_driver_model/kernel/kmemleak.h"
#include "host_driver_model/kernel/lazy_event.h"

namespace qedisim::kern {

class Context;
class TimerWheel;

class Timer {
 public:
  Timer(const char* name, std::function<void()> fn) : name_(name), fn_(std::move(fn)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  const char* name() const { return name_; }
  // timer_setup: the callback, run in the timer context.
  void setup(std::function<void()> fn) { fn_ = std::move(fn); }
  // mod_timer / add_timer: (re)arm to fire after `delay`.
  void mod_timer(Duration delay);
  // del_timer: true if it was pending. A callback already running (spinning
  // on a lock) goes on.
  bool del_timer();
  // del_timer_sync: del_timer, then wait until a running callback of this
  // timer has returned (not from the callback itself).
  bool del_timer_sync();
  bool pending() const { return pending_; }
  // What the destructor does, for a timer reused in place (a pooled
  // request's): its handoff channel ends and, if armed, it is forgotten.
  void reset();
  std::int64_t expires_ns() const { return expires_ns_; }
  // The tracked object the timer_list is embedded in (from_timer's
  // container): an armed timer keeps it reachable for kmemleak.
  void set_owner(const ObjectHeader* owner) { owner_ = owner; }
  const ObjectHeader* owner() const { return owner_; }

 private:
  friend class TimerWheel;
  const char* name_;
  const ObjectHeader* owner_ = nullptr;
  std::function<void()> fn_;
  bool pending_ = false;
  std::int64_t expires_ns_ = 0;
  std::uint64_t token_ = 0;  // this arming's key in the wheel (unique over the run)
  std::uint32_t slot_ = 0;   // this arming's slot in the wheel's live table
};

class TimerWheel : public sc_core::sc_module {
 public:
  TimerWheel(sc_core::sc_module_name name, Context& timer_context);
  void arm(Timer& t, std::int64_t expires_ns);
  void forget(Timer& t);  // a pending timer is re-armed, cancelled or destroyed
  std::size_t pending_count() const { return pending_; }
  const Timer* running() const { return running_; }  // the callback in progress, if any
  sc_core::sc_event& callback_done() { return callback_done_.get(); }
  const Context& context() const { return context_; }

  static TimerWheel& get();

 private:
  struct Entry {
    std::int64_t expires_ns;
    std::uint64_t seq;    // FIFO among equal expiries: deterministic
    std::uint64_t token;  // compared with its slot's: a stale entry never touches its (maybe freed) timer
    std::uint32_t slot;
    bool operator>(const Entry& o) const {
      return expires_ns != o.expires_ns ? expires_ns > o.expires_ns : seq > o.seq;
    }
  };
  void run();
  void fire();
  void reschedule();
  void compact();
  // An arming is live while its slot still holds its token.
  bool live(const Entry& e) const { return slots_[e.slot].token == e.token; }
  void release(std::uint32_t slot);

  Context& context_;
  // A binary min-heap (std::push_heap/pop_heap with std::greater, as
  // std::priority_queue does); a plain vector so that stale entries can be
  // dropped in bulk (compact) instead of piling up until their expiry.
  std::vector<Entry> heap_;
  std::uint64_t seq_ = 0;
  std::uint64_t tokens_ = 0;
  // The armed timers, a slot each (token 0: free), reused last-freed first:
  // no allocation per arming once the table has grown to the most timers
  // armed at once.
  struct Slot {
    std::uint64_t token = 0;
    Timer* timer = nullptr;
  };
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t pending_ = 0;  // slots in use
  TimedEvent wake_;
  const Timer* running_ = nullptr;
  LazyEvent callback_done_;
  KmemleakRoot roots_;  // the armed timers' owners
};

}  // namespace qedisim::kern
