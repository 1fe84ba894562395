// Wait queues (include/linux/wait.h): wake_up wakes every waiter, each
// re-tests its condition, as in the kernel; no wakeup is lost because the
// test and the sleep happen without a scheduling point between them.
#pragma once

#include <cstdint>
#include <string>
#include <systemc>

#include "host_driver_model/kernel/lazy_event.h"
#include "host_driver_model/kernel/printk.h"
#include "host_driver_model/kernel/sched.h"

namespace qedisim::kern {

class WaitQueue {
 public:
  explicit WaitQueue(const char* name) : name_(name) {}
  ~WaitQueue() { Kernel::hb_retire(this); }  // a later object at this address is another channel
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  const char* name() const { return name_; }
  // wake_up / wake_up_interruptible / wake_up_all.
  void wake_up() {
    Kernel::hb_send(this);  // wake_up -> the woken wait returns
    if (Kernel::events && Kernel::events->timeline()) {
      // The arrow is drawn when (and if) a waiter returns at this instant.
      last_wake_ = next_flow_id();
      wake_ns_ = Kernel::now_ns();
      const Context* c = Kernel::current_context();
      waker_.assign(c ? c->name() : std::string("-"));
      wake_drawn_ = false;
    }
    event_.notify_delta();
    if (Kernel::current_context()) Kernel::get().maybe_stall();  // the woken may run first (sched.stall)
  }
  sc_core::sc_event& event() { return event_.get(); }
  // The waiter woken with its condition true: the wake_up -> return arrow (--trace).
  void woken() {
    Kernel::hb_recv(this);
    if (!last_wake_ || !Kernel::events || !Kernel::events->timeline() || wake_ns_ != Kernel::now_ns()) return;
    if (!wake_drawn_) emit_flow_out_from(waker_, wake_ns_, EvSys::kernel, name_, last_wake_);
    wake_drawn_ = true;
    emit_timeline(EvKind::flow_in, EvSys::kernel, name_, last_wake_);
  }

 private:
  const char* name_;
  std::uint64_t last_wake_ = 0;  // --trace only: the last wake_up's flow, its time and context
  std::int64_t wake_ns_ = 0;
  std::string waker_;
  bool wake_drawn_ = false;
  LazyEvent event_;
};

// wait_event_timeout / wait_event_interruptible_timeout: returns 0 if the
// condition is still false when the timeout elapses, else the time left
// (at least 1 ns, as the kernel returns at least 1 jiffy).
template <typename Cond>
std::int64_t wait_event_timeout(WaitQueue& wq, Cond cond, Duration timeout) {
  if (cond()) return timeout.ns > 0 ? timeout.ns : 1;
  Kernel& k = Kernel::get();
  Context& self = k.current();
  const std::int64_t deadline = Kernel::now_ns() + timeout.ns;
  k.wait_begin(self, wq.name(), false);
  for (;;) {
    const std::int64_t left = deadline - Kernel::now_ns();
    if (left <= 0) break;
    wait_on(wq.event(), Duration{left});
    if (cond()) {
      k.wait_end(self, false);
      wq.woken();
      const std::int64_t rem = deadline - Kernel::now_ns();
      return rem > 0 ? rem : 1;
    }
  }
  const bool ok = cond();
  k.wait_end(self, !ok);
  return ok ? 1 : 0;
}

// wait_event: no timeout.
template <typename Cond>
void wait_event(WaitQueue& wq, Cond cond, bool idle = false) {
  if (cond()) return;
  Kernel& k = Kernel::get();
  Context& self = k.current();
  k.wait_begin(self, wq.name(), idle);
  while (!cond()) wait_on(wq.event());
  k.wait_end(self, false);
  wq.woken();
}

}  // namespace qedisim::kern
