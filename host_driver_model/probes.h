// What the driver model tells the checkers (sim/checkers): the events of
// the invariants (docs/invariants.md; which event feeds which checker: docs/checkers.md),
// emitted in the kernel functions where the kernel does the thing. Checkers
// observe only; every method returns void and the model never asks back.
// Objects are passed as tracked pointers so a checker can read identity
// (type, name, incarnation) without touching kernel state.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/vocabulary.h"
#include "host_driver_model/kernel/observer.h"
#include "host_driver_model/libiscsi/iscsi_objects.h"

namespace qedisim::drv {

enum class PduKind { scsi_cmd, tmf, nop_out, logout, text, login };
enum class TmfWorkKind { abort, reset_resp };
enum class SessionChange { block, unblock, set_logged_in, set_failed, recovery_timer_cancel, recovery_timer_start };
enum class CleanupWaitKind { abort_victim, bulk_wait1, bulk_wait2 };
class DriverObserver : public kern::Observer {
 public:
  // ---- tids (qedi_get_task_idx / qedi_clear_task_idx / task_id binding) ----
  virtual void tid_bound(std::uint16_t /*tid*/, kern::KPtr<IscsiTask> /*owner*/) {}
  // ok = false: the bit was already clear ("FW task context, already cleared").
  virtual void tid_cleared(std::uint16_t /*tid*/, bool /*ok*/) {}

  // ---- cleanup and abort targeting (wrong_task_cleanup) ----
  // qedi_iscsi_cleanup_task posted a TASK_CLEANUP WQE for `tid`, meant for `meant`.
  virtual void cleanup_posted(std::uint16_t /*tid*/, kern::KPtr<IscsiTask> /*meant*/) {}
  // An ABORT TASK left for the wire with reference tid `rtt_tid`, for victim `victim`.
  virtual void abort_sent(std::uint16_t /*rtt_tid*/, kern::KPtr<IscsiTask> /*victim*/) {}

  // ---- task lifetime (fw_orphan, double_complete) ----
  // libiscsi ended the task (completion or a fail path: fail_scsi_task, ...).
  virtual void task_ended(kern::KPtr<IscsiTask> /*task*/, std::string_view /*how*/) {}
  // iscsi_free_task: the last put.
  virtual void task_freed(kern::KPtr<IscsiTask> /*task*/) {}
  // scsi_done for one command issue.
  virtual void scsi_done(kern::KPtr<ScsiCmnd> /*cmd*/) {}
  // The EH took ownership of a command issue (timeout or scsi.abort).
  virtual void eh_owns(kern::KPtr<ScsiCmnd> /*cmd*/) {}

  // ---- teardown ordering (xmit_after_unbind, work_after_disconnect) ----
  virtual void xmit_entry(kern::KPtr<IscsiConn> /*conn*/, PduKind /*kind*/) {}
  virtual void unbind_returned(kern::KPtr<IscsiConn> /*conn*/) {}
  virtual void ep_disconnect_entered(kern::KPtr<IscsiConn> /*conn*/) {}
  virtual void ep_disconnect_barrier(kern::KPtr<IscsiConn> /*conn*/) {}  // stopped waiting for TMF works
  virtual void ep_disconnect_returned(kern::KPtr<IscsiConn> /*conn*/) {}
  virtual void conn_started(kern::KPtr<IscsiConn> /*conn*/) {}
  virtual void tmf_work_queued(kern::KPtr<IscsiConn> /*conn*/, TmfWorkKind, const void* /*work*/) {}
  virtual void tmf_work_step(kern::KPtr<IscsiConn> /*conn*/, TmfWorkKind, const void* /*work*/) {}
  virtual void tmf_work_done(kern::KPtr<IscsiConn> /*conn*/, TmfWorkKind, const void* /*work*/) {}

  // ---- cleanup waits (cleanup_stall) ----
  virtual void cleanup_wait_begin(kern::KPtr<IscsiConn> /*conn*/, CleanupWaitKind,
                                  const std::vector<std::uint16_t>& /*awaited_tids*/, std::int64_t /*deadline_ns*/) {}
  virtual void cleanup_cqe_handled(std::uint16_t /*tid*/) {}  // the handler returned for this CQE
  virtual void cleanup_wait_end(kern::KPtr<IscsiConn> /*conn*/, CleanupWaitKind, bool /*timed_out*/) {}
  virtual void cleanup_counters(kern::KPtr<IscsiConn> /*conn*/, std::uint32_t /*req*/, std::uint32_t /*cmpl*/) {}

  // ---- session state (driver_session_state) ----
  // `caller` is the kernel function that asked (qedi_* = driver code).
  virtual void session_change(kern::KPtr<IscsiSession> /*session*/, SessionChange, std::string_view /*caller*/) {}
  virtual void conn_failed(kern::KPtr<IscsiConn> /*conn*/) {}
  virtual void scsi_cmd_to_driver(kern::KPtr<IscsiSession> /*session*/, kern::KPtr<ScsiCmnd> /*cmd*/) {}

  // ---- abort attempts (unnecessary_escalation) ----
  virtual void abort_begin(kern::KPtr<ScsiCmnd> /*cmd*/) {}
  virtual void abort_end(kern::KPtr<ScsiCmnd> /*cmd*/, bool /*success*/) {}
  virtual void escalation(kern::KPtr<ScsiCmnd> /*cmd*/, EhLevel /*level*/) {}
  virtual void alloc_failed(Gfp /*gfp*/, std::string_view /*site*/, bool /*could_sleep*/, long /*session*/) {}

  // ---- added for the checkers (issue 6); default no-op ----

  // qedi_get_task_idx: the bit of `tid` was set (before any binding). A tid
  // allocated and never bound is a tid_leak at quiescence. Optional: without
  // it, tid_bound counts as the allocation.
  virtual void tid_allocated(std::uint16_t /*tid*/) {}
  // qedi_cmd->task_id of `task` no longer names `tid` (set to U16_MAX in
  // qedi_cleanup_task after p09, or wherever the model resets it). Emit at
  // the assignment. tid_double_owner and tid_leak stop counting the task as
  // the tid's owner.
  virtual void tid_unbound(kern::KPtr<IscsiTask> /*task*/, std::uint16_t /*tid*/) {}
  // A WQE for conn's SQ was written (qedi_ring_doorbell callers: qedi_task_xmit
  // -> qedi_iscsi_send_ioreq / qedi_send_iscsi_*; qedi_iscsi_cleanup_task for
  // cleanup = true), before the doorbell. `tid` the task context, `pdu_itt`
  // the itt the PDU carries (qedi_set_itt), `task` its libiscsi task (NULL for
  // a cleanup's own). fw_orphan (WQE not yet fetched) and xmit_after_unbind.
  virtual void wqe_posted(kern::KPtr<IscsiConn> /*conn*/, std::uint16_t /*tid*/, kern::KPtr<IscsiTask> /*task*/,
                          PduKind /*kind*/, bool /*cleanup*/, std::uint32_t /*pdu_itt*/) {}
  // qedi wrote the WQE for `tid` into slot `slot` of the SQ of firmware
  // connection `cid` (qedi_get_wqe_idx's index), before the doorbell. sq_overwrite.
  virtual void sq_slot_written(std::uint16_t /*cid*/, std::uint32_t /*slot*/, std::uint16_t /*tid*/) {}
  // __iscsi_get_task / __iscsi_put_task: refcount of `task` after the change.
  // A put below zero is a double_free.
  virtual void task_ref_changed(kern::KPtr<IscsiTask> /*task*/, int /*delta*/, int /*refcount_after*/) {}
  // The EH handed a command issue back (scsi_eh_finish_cmd: to be retried as
  // a new issue, or finished). After this the issue is finished for
  // double_complete.
  virtual void eh_done(kern::KPtr<ScsiCmnd> /*cmd*/) {}
  // iscsi_conn_stop entered (STOP_CONN_TERM or STOP_CONN_RECOVER). Opens the
  // "conn stopped" window of driver_session_state until conn_started.
  virtual void conn_stopped(kern::KPtr<IscsiConn> /*conn*/, StopFlag /*flag*/) {}
  // Right after an object is allocated: what it serves (leak). `owner` is
  // the conn / session it belongs to (NULL for host and operation scope
  // without one). Emit at the kzalloc of qedi_work_map (operation, its conn),
  // CQE work items (operation), conn/session/endpoint objects.
  // libiscsi wrote session->tmf_state (conn->tmf_state before p06) with a
  // new value (coverage of TMF state transitions for explore; no checker).
  virtual void tmf_state_changed(TmfState /*from*/, TmfState /*to*/) {}
  // libiscsi wrote session->state with a new value (swarm's coverage of
  // session states; no checker).
  virtual void session_state_changed(SessionState /*from*/, SessionState /*to*/) {}
};

}  // namespace qedisim::drv
