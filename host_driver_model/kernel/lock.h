// mutex and spinlock (include/linux/mutex.h, spinlock.h). The simulation is
// cooperative, so a lock only matters across a scheduling point: a context
// that blocks or is held at a failpoint while holding it. Spinlock holders
// never sleep; a hold at a failpoint models slow code under the lock.
#pragma once

#include <cstdint>
#include <systemc>

#include "host_driver_model/kernel/lazy_event.h"
#include "host_driver_model/kernel/sched.h"

namespace qedisim::kern {

class Lock {
 public:
  enum class Kind { mutex, spinlock };
  Lock(const char* name, Kind kind) : name_(name), kind_(kind) {}
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  const char* name() const { return name_; }
  Kind kind() const { return kind_; }
  const Context* owner() const { return owner_; }
  bool is_locked() const { return owner_ != nullptr; }

  void lock();
  void unlock() noexcept;

  // The lock chain (Context::chain_key) of this lock taken on top of chain
  // `parent`. Remembers the last answer: a lock is mostly taken on top of
  // the same chain, and then the answer is inline.
  std::uint32_t chain_over(std::uint32_t parent) const {
    return parent == chain_parent_ ? chain_ : chain_over_new(parent);
  }

 private:
  std::uint32_t chain_over_new(std::uint32_t parent) const;
  const char* name_;
  Kind kind_;
  mutable std::uint32_t chain_parent_ = 0;  // the last chain_over: its parent (0: none yet) ...
  mutable std::uint32_t chain_ = 0;         // ... and its answer
  Context* owner_ = nullptr;
  unsigned waiters_ = 0;  // contexts blocked in lock(): only they need released_
  LazyEvent released_;
};

class Mutex : public Lock {
 public:
  explicit Mutex(const char* name) : Lock(name, Kind::mutex) {}
};

class SpinLock : public Lock {
 public:
  explicit SpinLock(const char* name) : Lock(name, Kind::spinlock) {}
};

// spin_lock_bh / mutex_lock scoped to a block; unlock() drops it early.
class Guard {
 public:
  explicit Guard(Lock& l) : lock_(&l) { lock_->lock(); }
  ~Guard() {
    if (lock_) lock_->unlock();
  }
  void unlock() {
    if (lock_) lock_->unlock();
    lock_ = nullptr;
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  Lock* lock_;
};

}  // namespace qedisim::kern
