// Workqueues (include/linux/workqueue.h). Every queue here is ordered (one
// worker, FIFO), as qedi's tmf_thread (alloc_ordered_workqueue) and scsi-ml's
// tmf_work_q (max_active 1) are. A work item is pending from queue_work until
// its function starts; queueing a pending item does nothing and returns false.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <systemc>

#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kmemleak.h"
#include "host_driver_model/kernel/lazy_event.h"

namespace qedisim::kern {

struct Work {
  explicit Work(const char* name, std::function<void()> fn = {}) : name(name), fn(std::move(fn)) {}
  ~Work() { Kernel::hb_retire(this); }
  // What the destructor does, for a work reused in place (a pooled
  // request's): its handoff channel ends. Not while queued or running.
  void reset() {
    Kernel::hb_retire(this);
    pending = false;
    owner = nullptr;
  }
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;
  const char* name;
  std::function<void()> fn;
  bool pending = false;
  // The tracked object the work_struct is embedded in: queued or running,
  // the work keeps it reachable for kmemleak.
  const ObjectHeader* owner = nullptr;
  std::uint64_t flow_id = 0;  // the queue_work -> execute arrow of --trace
};

class Workqueue : public sc_core::sc_module {
 public:
  // `context_name`: the worker's context, e.g. "tmf_wq/host0".
  Workqueue(sc_core::sc_module_name name, std::string context_name);

  bool queue_work(Work& w);
  // flush_work: wait until `w` is neither pending nor running.
  void flush_work(Work& w);
  bool busy() const { return running_ != nullptr || !queue_.empty(); }
  const Work* running() const { return running_; }
  const std::deque<Work*>& queued() const { return queue_; }
  Context& context() { return context_; }

 private:
  void worker();

  Context context_;
  std::deque<Work*> queue_;
  Work* running_ = nullptr;
  LazyEvent queued_;
  LazyEvent done_;
  KmemleakRoot roots_;  // the queued and running works' owners
};

}  // namespace qedisim::kern
