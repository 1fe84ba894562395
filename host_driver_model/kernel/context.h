// A kernel execution context (a finding's ctx=, docs/invariants.md): the EH thread, a workqueue
// worker, a per-CPU io thread, iscsid, a queue context, the timer softirq.
// Each runs as one SystemC process; kernel code in it blocks only through
// the primitives of this folder, which restore "current" on every resume.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qedisim::kern {

class Lock;

class Context {
 public:
  explicit Context(std::string name);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const std::string& name() const { return *name_; }
  // The same name in storage kept for the whole process (names are
  // interned): what an object's header keeps of the context that allocated
  // or freed it, without a copy per object.
  const char* lasting_name() const { return name_->c_str(); }
  // Never reused within a process (creation order): a checker's key for the context.
  std::uint32_t id() const { return id_; }

  // The SystemC thread that is this context (a kthread, a workqueue worker),
  // or null: only that thread may be stalled as this context (sched.stall);
  // code borrowing the context from another process never is.
  const void* process() const { return process_; }
  void bind_process(const void* p) { process_ = p; }

  // The kernel function running now (innermost), for findings and traces.
  // The stack starts with "-", which is never popped: no test for an empty
  // stack (every tracked field access reads this).
  const char* function() const { return functions_.back(); }
  void push_function(const char* fn) { functions_.push_back(fn); }
  void pop_function() { functions_.pop_back(); }

  // Locks held, innermost last (lockset for data_race; no sleeping under a spinlock).
  const std::vector<const Lock*>& held() const { return held_; }
  void acquired(const Lock* l);
  void released(const Lock* l);
  // held() as one key, like lockdep's curr->curr_chain_key
  // (kernel/locking/lockdep.c) but over lock instances, not classes: two
  // contexts, or one context at two times, have the same key exactly when
  // they hold the same locks in the same order. Never 0; small and dense
  // (kNoLocksChain, then in order of first sight in the process), so a
  // checker may index what it derived from held() by it.
  static constexpr std::uint32_t kNoLocksChain = 1;
  std::uint32_t chain_key() const { return chain_key_; }
  bool holds_spinlock() const;

  // What the context is doing, for waveforms: waiting on `waiting_on()`
  // (nullptr when not blocked), idle (waiting for work) or running.
  const char* waiting_on() const { return waiting_on_; }
  bool idle() const { return idle_; }
  void set_waiting(const char* what, bool idle) {
    waiting_on_ = what;
    idle_ = idle;
  }

  // Every context that exists, in creation order (deterministic).
  static const std::vector<Context*>& all();

  // Whether this context may sleep at all (timer callbacks and MSI-X handlers may not).
  bool can_sleep() const { return can_sleep_; }
  void set_atomic() { can_sleep_ = false; }

  // rcu_read_lock nesting (RcuReadLock, sched.h): without PREEMPT_RCU a
  // read-side section is not preempted and may not sleep.
  void rcu_read_lock() { ++rcu_depth_; }
  void rcu_read_unlock() { --rcu_depth_; }

  // Whether the code running now may sleep or be preempted: a sleeping
  // context outside any spinlock and RCU read-side section.
  bool may_sleep_now() const { return can_sleep_ && rcu_depth_ == 0 && !holds_spinlock(); }

 private:
  const std::string* name_;  // interned
  std::uint32_t id_;
  const void* process_ = nullptr;
  std::vector<const char*> functions_{"-"};  // "-", then the functions running, innermost last
  std::vector<const Lock*> held_;
  std::vector<std::uint32_t> chains_;        // chains_[i]: the chain key of held_[0..i]
  std::uint32_t chain_key_ = kNoLocksChain;  // chains_.back(), or none held
  bool can_sleep_ = true;
  int rcu_depth_ = 0;
  const char* waiting_on_ = nullptr;
  bool idle_ = false;
};

}  // namespace qedisim::kern
