// What the kernel layer tells the checkers. Checkers observe; nothing here
// returns a value that could change what the model does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/vocabulary.h"
#include "host_driver_model/kernel/field_name.h"

namespace qedisim::kern {

class Context;
struct ObjectHeader;

enum class AccessKind { read, write, lock, wake, timer, free };

class Observer {
 public:
  virtual ~Observer() = default;

  // Tracked storage (slab.h).
  virtual void object_allocated(const ObjectHeader&) {}
  virtual void object_freed(const ObjectHeader&) {}
  // An access through a pointer whose object is freed or whose incarnation ended.
  virtual void use_after_free(const ObjectHeader&, std::uint32_t /*taken_incarnation*/, AccessKind,
                              std::string_view /*field*/) {}
  // A free of an object (incarnation) that is already free.
  virtual void double_free(const ObjectHeader&, std::uint32_t /*taken_incarnation*/) {}
  // A tracked pointer field holding null was dereferenced (the call is abandoned).
  virtual void null_deref(std::string_view /*owner*/, std::string_view /*field*/) {}

  // Blocking (wait.h, lock.h): a context enters or leaves one logical wait.
  // `idle` waits (a worker waiting for work) do not count for hung_task.
  virtual void wait_begin(const Context&, std::string_view /*what*/, bool /*idle*/) {}
  virtual void wait_end(const Context&, bool /*timed_out*/) {}

  // ---- added for the checkers (issue 6); default no-op ----

  // A blocked wait's condition became true (lost-wakeup detection: cause (B) of
  // unnecessary_escalation, docs/invariants.md). Emit from the kernel layer: after each write to a field a
  // blocked wait_event*/poll loop reads, re-test that wait's condition and
  // call this once per wait, with the waiting context, when it first holds
  // while the context is still blocked. Used by unnecessary_escalation and
  // shown by hung_task.
  virtual void wait_condition_met(const Context& /*waiter*/) {}

  // A tracked pointer field was set to NULL (qedi_conn->ep = NULL at the end
  // of qedi_ep_disconnect, task->sc = NULL in iscsi_free_task, ...). Emit at
  // the assignment, in the context doing it. null_deref names it.
  virtual void pointer_nulled(const ObjectHeader& /*owner*/, std::string_view /*field*/,
                              std::string_view /*pointee_type*/) {}

  // data_race (docs/invariants.md). One access to field `field` of the object in
  // its incarnation, by the current context (its held locks are the
  // lockset). `marked`: atomic_*, bitops, kref, READ_ONCE/WRITE_ONCE. Emitted
  // by KPtr::use (KRD/KWR, KRDF/KWRF, marked KRDM/KWRM); kind read or write.
  // `field` is a string literal: checkers may key it by its address.
  virtual void field_access(const ObjectHeader& /*obj*/, std::uint32_t /*incarnation*/, const FieldName& /*field*/,
                            AccessKind /*kind*/, bool /*marked*/) {}
  // Happens-before handoff on `channel`, from the current context
  // (Kernel::hb_send/hb_recv): lock release -> next acquire, wake_up -> the
  // woken wait's return, queue_work -> the work's start, work end ->
  // flush_work's return, mod_timer -> callback -> del_timer_sync's return,
  // kthread_run -> the thread, blk-mq insert -> dispatch, WQE -> the CQE
  // handler of its tid, ramrod -> its completion event.
  virtual void handoff_send(const void* /*channel*/) {}
  virtual void handoff_recv(const void* /*channel*/) {}
  virtual void handoff_retire(const void* /*channel*/) {}

  // kzalloc (alloc.h) failed at the mem.alloc failpoint: `site` is the
  // allocating kernel function, `could_sleep` whether the caller's context
  // could have slept (process context, no spinlock held), `session` the
  // session it allocated for (-1: none). Declared again, with the same
  // signature, in drv::DriverObserver, which thus overrides it.
  virtual void alloc_failed(Gfp /*gfp*/, std::string_view /*site*/, bool /*could_sleep*/, long /*session*/) {}
};

}  // namespace qedisim::kern
