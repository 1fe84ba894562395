// Blocking and scheduling points. Kernel code in a context blocks only
// through these calls; each restores Kernel::current() when it resumes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <systemc>

#include "common/duration.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kernel.h"

namespace qedisim::kern {

inline sc_core::sc_time to_sc(Duration d) { return sc_core::sc_time(static_cast<double>(d.ns), sc_core::SC_NS); }

// Sleep for d (msleep, or a context held at a failpoint).
void sleep_for(Duration d);
// Block until `ev` fires or `timeout` passes; true if the event fired.
bool wait_on(sc_core::sc_event& ev, Duration timeout);
// Block until `ev` fires.
void wait_on(sc_core::sc_event& ev);

// A named step inside a kernel function (docs/scenarios.md qedi.* / libiscsi.*):
// counts the occurrence, fires `on:` actions, then holds the context for the
// failpoint's delay plus sched.jitter.
void point(std::string_view name, std::optional<std::uint32_t> session);

// A named point of a per-CPU queue (qedi.io_thread.cqe): counts the
// occurrence and holds the context for the failpoint's delay only (no
// jitter: it is reached once per completion).
void queue_point(std::string_view name, std::uint32_t cq);

// A plain scheduling point: sched.jitter only.
void sched_point();

// RAII: names the kernel function running in the current context.
// A timeline slice of `ctx` begins (the kernel function `fn`) or ends (--trace).
void slice(const Context& ctx, const char* fn, bool begin);

class KFunc {
 public:
  explicit KFunc(const char* fn) : ctx_(&Kernel::get().current()) {
    ctx_->push_function(fn);
    if (Kernel::events && Kernel::events->timeline()) slice(*ctx_, fn, true);
  }
  ~KFunc() {
    if (Kernel::events && Kernel::events->timeline()) slice(*ctx_, nullptr, false);
    ctx_->pop_function();
  }
  KFunc(const KFunc&) = delete;
  KFunc& operator=(const KFunc&) = delete;

 private:
  Context* ctx_;
};

// RAII rcu_read_lock()/rcu_read_unlock() in the current context: a section
// that is neither stalled (sched.stall) nor allowed to sleep.
class RcuReadLock {
 public:
  RcuReadLock() : ctx_(&Kernel::get().current()) { ctx_->rcu_read_lock(); }
  ~RcuReadLock() { ctx_->rcu_read_unlock(); }
  RcuReadLock(const RcuReadLock&) = delete;
  RcuReadLock& operator=(const RcuReadLock&) = delete;

 private:
  Context* ctx_;
};

// Thrown by a null dereference (null_deref, docs/invariants.md): the kernel call is abandoned,
// RAII guards release what it holds, and the context's loop catches it.
struct AbandonCall {
  const char* function;
};

// After an AbandonCall was caught: the locks the abandoned call took by hand
// (lock()/unlock(), not a Guard) are released as its guards were, so the
// context's next call does not find them still held. `keep`: the locks the
// catching caller itself held when it made the call (0 in a context's loop).
void release_abandoned_locks(Context& self, std::size_t keep = 0);

// Where a caller catches a callee's AbandonCall: mark() before the call,
// unwind() in the catch releases what the callee took, not what the caller holds.
class AbandonScope {
 public:
  AbandonScope();
  void unwind() const;

 private:
  Context* self_;
  std::size_t held_;
};

}  // namespace qedisim::kern
