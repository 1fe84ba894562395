// drivers/scsi/libiscsi.c as of 5.12 (before "[PATCH v3 00/17] libiscsi and
// qedi TMF fixes"), for an offload LLD (no ihost->workq: PDUs go to
// xmit_task inline under frwd_lock). Where p01..p07 changed behaviour both
// versions are here, each named after its patch.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "hba_model/hsi/qedi_hsi.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/libiscsi/transport_iscsi.h"

namespace qedisim::drv {

using kern::AccessKind;
using kern::Guard;
using kern::KFunc;
using kern::KPtr;
using namespace qedisim::hsi;

namespace {

// These caches are made at their first use, mostly in a forked run, and
// never destroyed: a static with a destructor registers an exit handler,
// which in a forked child copied libc's handler list and malloc's bins
// (~5 page faults a run).
kern::Slab<IscsiSession>& session_slab() {
  static auto* s = new kern::Slab<IscsiSession>();
  return *s;
}
kern::Slab<IscsiConn>& conn_slab() {
  static auto* s = new kern::Slab<IscsiConn>();
  return *s;
}
// iscsi_pool_free: the slots' memory stays (stale pointers must read defined memory).
std::vector<std::unique_ptr<kern::Pool<IscsiTask>>>& freed_pools() {
  static auto* v = new std::vector<std::unique_ptr<kern::Pool<IscsiTask>>>();
  return *v;
}

IscsiTransport& tt() { return *driver().transport; }

const char* task_state_name(TaskState s) {
  switch (s) {
    case TaskState::FREE:
      return "FREE";
    case TaskState::COMPLETED:
      return "COMPLETED";
    case TaskState::PENDING:
      return "PENDING";
    case TaskState::RUNNING:
      return "RUNNING";
    case TaskState::ABRT_TMF:
      return "ABRT_TMF";
    case TaskState::ABRT_SESS_RECOV:
      return "ABRT_SESS_RECOV";
    case TaskState::REQUEUE_SCSIQ:
      return "REQUEUE_SCSIQ";
  }
  return "?";
}

void fail_scsi_task(KPtr<IscsiTask> task, int err);
void iscsi_complete_task(KPtr<IscsiTask> task, TaskState state);
void iscsi_tmf_timedout(KPtr<IscsiSession> session, KPtr<IscsiConn> conn);
void iscsi_check_transport_timeouts(KPtr<IscsiConn> conn);

}  // namespace

// p06: one accessor picks the home of ehwait/tmhdr/tmf_timer/tmf_state, so
// that before the patch every use goes through the conn pointer (and a use
// after iscsi_conn_teardown freed it is seen by the uaf checker).
TmfFields& iscsi_tmf_fields(KPtr<IscsiSession> session, KPtr<IscsiConn> conn, AccessKind kind,
                            const kern::FieldName& field) {
  if (fixed(Patch::p06)) return session.use(kind, field).tmf;
  return conn.use(kind, field).tmf;
}
#define TMF(s, c, kind, field) \
  (iscsi_tmf_fields((s), (c), ::qedisim::kern::AccessKind::kind, QEDISIM_FIELD(#field)).field)

namespace {
// Every write of tmf_state in libiscsi.c, with the transition reported to the
// probes (explore's TMF state-transition coverage).
void set_tmf_state(KPtr<IscsiSession> session, KPtr<IscsiConn> conn, TmfState to) {
  TmfState& st = TMF(session, conn, write, tmf_state);
  if (st != to) probes().tmf_state_changed(st, to);
  st = to;
}
// Every write of session->state, with the transition reported to the probes.
void set_session_state(KPtr<IscsiSession> session, SessionState to) {
  SessionState& st = KWR(session, state);
  if (st != to) probes().session_state_changed(st, to);
  st = to;
}
}  // namespace

// ---- task references ------------------------------------------------------

// iscsi_free_task: the last put (libiscsi_task.cpp). Caller holds back_lock.
void iscsi_free_task(KPtr<IscsiTask> task) {
  KFunc f("iscsi_free_task");
  KPtr<IscsiConn> conn = KRD(task, conn);
  KPtr<IscsiSession> session = KRD(conn, session);
  KPtr<ScsiCmnd> sc = KRD(task, sc);
  const TaskState oldstate = KRD(task, state);
  tt().cleanup_task(task);
  KWR(task, state) = TaskState::FREE;
  KWR(task, sc) = nullptr;
  probes().task_freed(task);
  // login task is preallocated so do not free
  if (KRD(conn, login_task) == task) return;
  auto& pool = KRD(session, cmds);
  if (pool) pool->free(task);  // kfifo_in(&session->cmdpool.queue)
  if (sc) {
    sc.raw()->task = nullptr;  // SCSI eh reuses commands to verify us (sc->SCp.ptr = NULL)
    if (oldstate != TaskState::REQUEUE_SCSIQ) shost().scsi_done(sc);
  }
}

namespace {

// iscsi_complete_task: caller holds back_lock.
void iscsi_complete_task(KPtr<IscsiTask> task, TaskState state) {
  const TaskState cur = KRD(task, state);
  if (cur == TaskState::COMPLETED || cur == TaskState::ABRT_TMF || cur == TaskState::ABRT_SESS_RECOV ||
      cur == TaskState::REQUEUE_SCSIQ || cur == TaskState::FREE)
    return;
  KWR(task, state) = state;
  probes().task_ended(task, task_state_name(state));
  KPtr<IscsiConn> conn = KRD(task, conn);
  if (KRD(conn, ping_task) == task) KWR(conn, ping_task) = nullptr;
  // release get from queueing
  __iscsi_put_task(task);
}

// fail_scsi_task: caller holds frwd_lock (5.12: no cleanup_queued_task for offload).
void fail_scsi_task(KPtr<IscsiTask> task, int err) {
  KFunc f("fail_scsi_task");
  KPtr<IscsiConn> conn = KRD(task, conn);
  KPtr<IscsiSession> session = KRD(conn, session);
  // a command that completed while EH held no ref has no sc any more
  KPtr<ScsiCmnd> sc = KRD(task, sc);
  if (!sc) return;
  TaskState state;
  if (KRD(task, state) == TaskState::PENDING)
    state = TaskState::COMPLETED;
  else if (err == DID_TRANSPORT_DISRUPTED)
    state = TaskState::ABRT_SESS_RECOV;
  else
    state = TaskState::ABRT_TMF;
  KWR(sc, result) = make_result(static_cast<HostByte>(err));
  Guard back(session.raw()->back_lock);
  iscsi_complete_task(task, state);
}

// fail_scsi_tasks: every SCSI task of the LUN (-1: all). Caller holds frwd_lock.
void fail_scsi_tasks(KPtr<IscsiConn> conn, std::int64_t lun, int error) {
  KFunc f("fail_scsi_tasks");
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  if (!s.cmds) return;
  for (std::uint32_t i = 0; i < s.cmds->size(); ++i) {
    KPtr<IscsiTask> task;
    {
      Guard back(s.back_lock);
      if (!s.cmds->live(i)) continue;
      task = s.cmds->at(i);
      if (!KRD(task, sc) || KRD(task, state) == TaskState::FREE) continue;
      if (lun != -1 && lun != static_cast<std::int64_t>(KRD(task, sc).raw()->lun)) continue;
      __iscsi_get_task(task);
    }
    fail_scsi_task(task, error);
    s.frwd_lock.unlock();
    iscsi_put_task(task);
    s.frwd_lock.lock();
  }
}

// fail_mgmt_tasks: management tasks (TMF, NOP-Out, Logout) of the conn. Caller holds frwd_lock.
void fail_mgmt_tasks(KPtr<IscsiSession> session, KPtr<IscsiConn> conn) {
  KFunc f("fail_mgmt_tasks");
  IscsiSession& s = *session.raw();
  if (!s.cmds) return;
  for (std::uint32_t i = 0; i < s.cmds->size(); ++i) {
    if (!s.cmds->live(i)) continue;
    KPtr<IscsiTask> task = s.cmds->at(i);
    if (KRD(task, sc) || KRD(task, state) == TaskState::FREE) continue;
    if (KRD(conn, login_task) == task) continue;
    Guard back(s.back_lock);
    const TaskState state = KRD(task, state) == TaskState::PENDING ? TaskState::COMPLETED : TaskState::ABRT_SESS_RECOV;
    iscsi_complete_task(task, state);
  }
}

// iscsi_check_tmf_restrictions: is this PDU held back by the TMF in progress?
int iscsi_check_tmf_restrictions(KPtr<IscsiTask> task, std::uint8_t /*opcode: SCSI_CMD; no data-outs offloaded*/) {
  KPtr<IscsiConn> conn = KRD(task, conn);
  KPtr<IscsiSession> session = KRD(conn, session);
  if (TMF(session, conn, read, tmf_state) == TmfState::INITIAL) return 0;
  const IscsiHdr& tmf = TMF(session, conn, read, tmhdr);
  if (tmf.opcode != ISCSI_OP_SCSI_TMFUNC) return 0;
  switch (tmf.tm_function) {
    case ISCSI_TM_FUNC_LOGICAL_UNIT_RESET:
      if (tmf.lun != KRD(KRD(task, sc), lun)) return 0;  // allow PDUs for unrelated LUNs
      [[fallthrough]];
    case ISCSI_TM_FUNC_TARGET_WARM_RESET:
      // fail all SCSI cmd PDUs (data-outs too with fast_abort, the default)
      return -13;  // -EACCES
    case ISCSI_TM_FUNC_ABORT_TASK:
      // only data-outs of the victim, which the offload model has none of
      return 0;
    default:
      return 0;
  }
}

// iscsi_prep_scsi_cmd_pdu
int iscsi_prep_scsi_cmd_pdu(KPtr<IscsiTask> task) {
  KFunc f("iscsi_prep_scsi_cmd_pdu");
  const int rc = iscsi_check_tmf_restrictions(task, ISCSI_OP_SCSI_CMD);
  if (rc) return rc;
  KPtr<IscsiConn> conn = KRD(task, conn);
  KPtr<IscsiSession> session = KRD(conn, session);
  KPtr<ScsiCmnd> sc = KRD(task, sc);
  IscsiHdr& hdr = KWR(task, hdr);
  hdr = IscsiHdr{};
  hdr.opcode = ISCSI_OP_SCSI_CMD;
  hdr.lun = KRD(sc, lun);
  hdr.itt = build_itt(KRD(task, itt), KRD(session, age));
  KWR(task, hdr_itt) = hdr.itt;
  KWR(task, state) = TaskState::RUNNING;
  return 0;
}

// iscsi_alloc_task: a pool slot for a SCSI command.
namespace {
// "s0 itt 0x05", once the slot (and so the itt) is known: kept as numbers,
// formatted only if read (kern::ObjectName).
void set_task_name(const KPtr<IscsiTask>& task, std::uint32_t session_id, std::uint32_t itt) {
  const_cast<kern::ObjectHeader*>(task.header())->name = kern::ObjectName::task(session_id, itt);
}
}  // namespace

KPtr<IscsiTask> iscsi_alloc_task(KPtr<IscsiConn> conn, KPtr<ScsiCmnd> sc) {
  KPtr<IscsiSession> session = KRD(conn, session);
  auto& pool = KRD(session, cmds);
  if (!pool) return nullptr;
  KPtr<IscsiTask> task = pool->alloc({});
  if (!task) return nullptr;
  IscsiTask& t = *task.raw();
  t.itt = pool->index_of(task);
  set_task_name(task, session.raw()->id, t.itt);
  KWR(sc, scp_phase) = KRD(session, age);
  KWR(sc, task) = task;  // sc->SCp.ptr
  t.refcount = 1;
  t.state = TaskState::PENDING;
  t.conn = conn;
  t.sc = sc;
  t.have_checked_conn = false;
  t.last_timeout_ns = kern::Kernel::now_ns();
  t.last_xfer_ns = t.last_timeout_ns;
  return task;
}

// iscsi_session_chkready (scsi_transport_iscsi.h): the transport-class state gate.
int iscsi_session_chkready(KPtr<IscsiSession> session) {
  Guard g(session.raw()->cls_lock);
  switch (KRD(session, cls_state)) {
    case ClsSessionState::LOGGED_IN:
      return 0;
    case ClsSessionState::FAILED:
      return make_result(DID_IMM_RETRY);
    case ClsSessionState::FREE:
      return make_result(DID_TRANSPORT_FAILFAST);
  }
  return make_result(DID_NO_CONNECT);
}

enum QueueFailure {
  FAILURE_OK = 0,
  FAILURE_SESSION_FAILED = 2,
  FAILURE_SESSION_FREED,
  FAILURE_WINDOW_CLOSED,
  FAILURE_OOM,
  FAILURE_SESSION_TERMINATE,
  FAILURE_SESSION_IN_RECOVERY,
  FAILURE_SESSION_RECOVERY_TIMEOUT,
  FAILURE_SESSION_LOGGING_OUT,
  FAILURE_SESSION_NOT_READY
};

// The libiscsi session-state gate of iscsi_queuecommand (both versions use it).
int iscsi_session_state_gate(KPtr<IscsiSession> session, KPtr<ScsiCmnd> sc) {
  switch (KRD(session, state)) {
    case SessionState::LOGGED_IN:
      return FAILURE_OK;
    case SessionState::FAILED:
    case SessionState::IN_RECOVERY:
      KWR(sc, result) = make_result(DID_IMM_RETRY);
      return FAILURE_SESSION_IN_RECOVERY;
    case SessionState::LOGGING_OUT:
      KWR(sc, result) = make_result(DID_IMM_RETRY);
      return FAILURE_SESSION_LOGGING_OUT;
    case SessionState::RECOVERY_FAILED:
      KWR(sc, result) = make_result(DID_TRANSPORT_FAILFAST);
      return FAILURE_SESSION_RECOVERY_TIMEOUT;
    case SessionState::TERMINATE:
      KWR(sc, result) = make_result(DID_NO_CONNECT);
      return FAILURE_SESSION_TERMINATE;
    default:
      KWR(sc, result) = make_result(DID_NO_CONNECT);
      return FAILURE_SESSION_FREED;
  }
}

// p02: iscsi_eh_running, the gate of iscsi_queuecommand after the patch:
// session state, suspend bit, and (new) no commands for a LUN or target under reset.
bool iscsi_eh_running_p02(KPtr<IscsiConn> conn, KPtr<ScsiCmnd> sc, int* reason) {
  KFunc f("iscsi_eh_running");
  KPtr<IscsiSession> session = KRD(conn, session);
  if ((*reason = iscsi_session_state_gate(session, sc)) != FAILURE_OK) return true;
  if (KRDM(conn, suspend_tx)) {
    *reason = FAILURE_SESSION_IN_RECOVERY;
    KWR(sc, result) = make_result(DID_REQUEUE);
    return true;
  }
  if (TMF(session, conn, read, tmf_state) != TmfState::INITIAL) {
    const IscsiHdr& tmf = TMF(session, conn, read, tmhdr);
    if ((tmf.tm_function == ISCSI_TM_FUNC_LOGICAL_UNIT_RESET && tmf.lun == KRD(sc, lun)) ||
        tmf.tm_function == ISCSI_TM_FUNC_TARGET_WARM_RESET) {
      KWR(sc, result) = make_result(DID_REQUEUE);
      return true;
    }
  }
  return false;
}

}  // namespace

// iscsi_queuecommand (queue context): gate, task, prep, LLD xmit inline under frwd_lock.
int iscsi_queuecommand(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_queuecommand");
  KPtr<IscsiSession> session = driver().sessions.at(KRD(sc, session));
  IscsiSession& s = *session.raw();
  KWR(sc, result) = 0;
  KWR(sc, task) = nullptr;
  KPtr<IscsiConn> conn;
  KPtr<IscsiTask> task;
  int reason = FAILURE_OK;
  // A guard, released early on every exit: a null dereference abandoning the
  // call must not leave frwd_lock held.
  Guard frwd(s.frwd_lock);
  auto fault = [&] {
    frwd.unlock();
    shost().scsi_done(sc);
    return 0;
  };
  auto reject = [&] {
    frwd.unlock();
    return static_cast<int>(SCSI_MLQUEUE_TARGET_BUSY);
  };
  auto prepd_reject = [&] {
    {
      Guard back(s.back_lock);
      iscsi_complete_task(task, TaskState::REQUEUE_SCSIQ);
    }
    return reject();
  };
  if (const int r = iscsi_session_chkready(session)) {
    KWR(sc, result) = r;
    return fault();
  }
  if (fixed(Patch::p02)) {
    conn = KRD(session, leadconn);
    if (!conn) {
      KWR(sc, result) = make_result(DID_NO_CONNECT);
      return fault();
    }
    if (iscsi_eh_running_p02(conn, sc, &reason)) return fault();
  } else {
    // pre-p02: session state, leadconn, suspend bit; the TMF is seen only in
    // iscsi_prep_scsi_cmd_pdu -> iscsi_check_tmf_restrictions (FINDINGS-p02.md).
    if ((reason = iscsi_session_state_gate(session, sc)) != FAILURE_OK) return fault();
    conn = KRD(session, leadconn);
    if (!conn) {
      KWR(sc, result) = make_result(DID_NO_CONNECT);
      return fault();
    }
    if (KRDM(conn, suspend_tx)) {
      KWR(sc, result) = make_result(DID_REQUEUE);
      return fault();
    }
  }
  task = iscsi_alloc_task(conn, sc);
  if (!task) return reject();  // FAILURE_OOM
  reason = iscsi_prep_scsi_cmd_pdu(task);
  if (reason) return prepd_reject();  // -ENOMEM / -EACCES
  probes().scsi_cmd_to_driver(session, sc);
  if (tt().xmit_task(task)) return prepd_reject();  // FAILURE_SESSION_NOT_READY
  frwd.unlock();
  return 0;
}

// ---- management PDUs --------------------------------------------------------

namespace {

// iscsi_prep_mgmt_task
int iscsi_prep_mgmt_task(KPtr<IscsiConn> conn, KPtr<IscsiTask> task) {
  KPtr<IscsiSession> session = KRD(conn, session);
  if (KRD(session, state) == SessionState::LOGGING_OUT) return -107;  // -ENOTCONN
  if (KRDF(task, hdr, opcode) == ISCSI_OP_LOGOUT) set_session_state(session, SessionState::LOGGING_OUT);
  KWR(task, state) = TaskState::RUNNING;
  return 0;
}

// __iscsi_conn_send_pdu: caller holds frwd_lock. Checks only the session
// state (the p03 race): a LOGGED_IN session sends even during ep_disconnect.
KPtr<IscsiTask> __iscsi_conn_send_pdu(KPtr<IscsiConn> conn, const IscsiHdr& hdr) {
  KFunc f("__iscsi_conn_send_pdu");
  KPtr<IscsiSession> session = KRD(conn, session);
  if (KRD(session, state) == SessionState::TERMINATE) return nullptr;
  if (KRD(session, state) != SessionState::LOGGED_IN) return nullptr;
  auto& pool = KRD(session, cmds);
  if (!pool) return nullptr;
  KPtr<IscsiTask> task = pool->alloc({});
  if (!task) return nullptr;
  IscsiTask& t = *task.raw();
  t.itt = pool->index_of(task);
  set_task_name(task, session.raw()->id, t.itt);
  t.refcount = 1;
  t.conn = conn;
  t.sc = nullptr;
  t.state = TaskState::PENDING;
  t.hdr = hdr;
  if (hdr.itt != RESERVED_ITT) t.hdr.itt = build_itt(t.itt, KRD(session, age));
  t.hdr_itt = t.hdr.itt;
  if (KRD(conn, ping_starting)) {
    KWR(conn, ping_task) = task;
    KWR(conn, ping_starting) = false;
  }
  auto free_task = [&] {
    Guard back(session.raw()->back_lock);
    __iscsi_put_task(task);
    return KPtr<IscsiTask>();
  };
  if (iscsi_prep_mgmt_task(conn, task)) return free_task();
  if (tt().xmit_task(task)) return free_task();
  return task;
}

// iscsi_send_nopout: a ping (rhdr == null) or the answer to a target NOP-In. Caller holds frwd_lock.
int iscsi_send_nopout(KPtr<IscsiConn> conn, const IscsiRsp* rhdr) {
  KFunc f("iscsi_send_nopout");
  if (!rhdr) {
    if (KRD(conn, ping_task) || KRD(conn, ping_starting)) return -22;  // -EINVAL
    KWR(conn, ping_starting) = true;
  }
  IscsiHdr hdr;
  hdr.opcode = ISCSI_OP_NOOP_OUT;
  hdr.itt = rhdr ? RESERVED_ITT : 0;
  KPtr<IscsiTask> task = __iscsi_conn_send_pdu(conn, hdr);
  if (!task) {
    if (!rhdr) {
      KWR(conn, ping_starting) = false;
      KWR(conn, ping_task) = nullptr;
    }
    return -5;  // -EIO
  }
  if (!rhdr) KWR(conn, last_ping_ns) = kern::Kernel::now_ns();
  return 0;
}

// iscsi_tmf_rsp: caller holds back_lock.
void iscsi_tmf_rsp(KPtr<IscsiConn> conn, const IscsiRsp& rsp) {
  KFunc f("iscsi_tmf_rsp");
  KPtr<IscsiSession> session = KRD(conn, session);
  kern::printk(EvSys::libiscsi, static_cast<std::int32_t>(session.raw() ? session.raw()->id : 0),
               "tmf rsp: response {}", rsp.response);
  if (TMF(session, conn, read, tmf_state) != TmfState::QUEUED) return;
  if (rsp.response == ISCSI_TMF_RSP_COMPLETE)
    set_tmf_state(session, conn, TmfState::SUCCESS);
  else if (rsp.response == ISCSI_TMF_RSP_NO_TASK)
    set_tmf_state(session, conn, TmfState::NOT_FOUND);
  else
    set_tmf_state(session, conn, TmfState::FAILED);
  TMF(session, conn, wake, ehwait).wake_up();
}

// iscsi_nop_out_rsp: caller holds back_lock.
void iscsi_nop_out_rsp(KPtr<IscsiTask> task) {
  KPtr<IscsiConn> conn = KRD(task, conn);
  if (KRD(conn, ping_task) == task) KTIMER(conn, transport_timer).mod_timer(params().session_noop_interval);
  iscsi_complete_task(task, TaskState::COMPLETED);
}

}  // namespace

// iscsi_conn_send_pdu: from userspace (iscsid's Logout).
int iscsi_conn_send_pdu(KPtr<IscsiConn> conn, const IscsiHdr& hdr) {
  KFunc f("iscsi_conn_send_pdu");
  KPtr<IscsiSession> session = KRD(conn, session);
  Guard frwd(session.raw()->frwd_lock);
  return __iscsi_conn_send_pdu(conn, hdr) ? 0 : -1;  // -EPERM
}

// __iscsi_complete_pdu: a response from the LLD's completion path; caller holds back_lock.
void __iscsi_complete_pdu(KPtr<IscsiConn> conn, const IscsiRsp& rsp) {
  KFunc f("__iscsi_complete_pdu");
  KPtr<IscsiSession> session = KRD(conn, session);
  KWR(conn, last_recv_ns) = kern::Kernel::now_ns();
  if (!iscsi_verify_itt(conn, rsp.itt)) return;  // ISCSI_ERR_BAD_ITT
  if (rsp.itt == RESERVED_ITT) {
    if (rsp.opcode == ISCSI_OP_NOOP_IN) {
      // A target ping: answer it. In RX path we are under back lock.
      IscsiSession& s = *session.raw();
      s.back_lock.unlock();
      s.frwd_lock.lock();
      iscsi_send_nopout(conn, &rsp);
      s.frwd_lock.unlock();
      s.back_lock.lock();
    } else if (rsp.opcode == ISCSI_OP_ASYNC_EVENT) {
      iscsi_recv_pdu(conn, rsp);
    }
    return;
  }
  // As the kernel: first find the task the itt names (ISCSI_ERR_BAD_ITT
  // when there is none), then handle the PDU.
  KPtr<IscsiTask> task;
  switch (rsp.opcode) {
    case ISCSI_OP_SCSI_CMD_RSP:
    case ISCSI_OP_SCSI_DATA_IN:
      task = iscsi_itt_to_ctask(conn, rsp.itt);
      if (!task) return;
      KWR(task, last_xfer_ns) = kern::Kernel::now_ns();
      break;
    case ISCSI_OP_LOGOUT_RSP:
    case ISCSI_OP_LOGIN_RSP:
    case ISCSI_OP_TEXT_RSP:
    case ISCSI_OP_SCSI_TMFUNC_RSP:
    case ISCSI_OP_NOOP_IN:
      task = iscsi_itt_to_task(conn, rsp.itt);
      if (!task) return;
      break;
    default:
      return;  // ISCSI_ERR_BAD_OPCODE
  }
  switch (rsp.opcode) {
    case ISCSI_OP_SCSI_CMD_RSP:
    case ISCSI_OP_SCSI_DATA_IN:
      // iscsi_scsi_cmd_rsp / iscsi_data_in_rsp
      KWR(KRD(task, sc), result) = make_result(DID_OK) | rsp.status;
      iscsi_complete_task(task, TaskState::COMPLETED);
      break;
    case ISCSI_OP_LOGOUT_RSP:
    case ISCSI_OP_LOGIN_RSP:
    case ISCSI_OP_TEXT_RSP:
      iscsi_recv_pdu(conn, rsp);
      iscsi_complete_task(task, TaskState::COMPLETED);
      break;
    case ISCSI_OP_SCSI_TMFUNC_RSP:
      iscsi_tmf_rsp(conn, rsp);
      iscsi_complete_task(task, TaskState::COMPLETED);
      break;
    case ISCSI_OP_NOOP_IN:
      iscsi_nop_out_rsp(task);
      break;
    default:
      break;
  }
}

// ---- connection failure, suspend, unbind ------------------------------------

namespace {
// p03: iscsi_set_conn_failed, split out of iscsi_conn_failure. Caller holds frwd_lock.
void iscsi_set_conn_failed(KPtr<IscsiConn> conn) {
  KPtr<IscsiSession> session = KRD(conn, session);
  if (KRD(session, state) == SessionState::FAILED) return;
  if (KRD(conn, stop_stage) == 0) set_session_state(session, SessionState::FAILED);
  KWRM(conn, suspend_tx) = true;
  KWR(conn, suspend_rx) = true;
  probes().conn_failed(conn);
}

// pre-p03 iscsi_conn_failure: no event when the session is already FAILED.
void iscsi_conn_failure_pre_p03(KPtr<IscsiConn> conn, int err) {
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  s.frwd_lock.lock();
  if (KRD(session, state) == SessionState::FAILED) {
    s.frwd_lock.unlock();
    return;
  }
  if (KRD(conn, stop_stage) == 0) set_session_state(session, SessionState::FAILED);
  s.frwd_lock.unlock();
  KWRM(conn, suspend_tx) = true;
  KWR(conn, suspend_rx) = true;
  probes().conn_failed(conn);
  iscsi_conn_error_event(conn, err);
}

// p03 iscsi_conn_failure: iscsi_set_conn_failed, then the event unconditionally (as in the v3 mail).
void iscsi_conn_failure_p03(KPtr<IscsiConn> conn, int err) {
  KPtr<IscsiSession> session = KRD(conn, session);
  {
    Guard frwd(session.raw()->frwd_lock);
    iscsi_set_conn_failed(conn);
  }
  iscsi_conn_error_event(conn, err);
}
}  // namespace

// iscsi_conn_failure
void iscsi_conn_failure(KPtr<IscsiConn> conn, int err) {
  KFunc f("iscsi_conn_failure");
  if (kern::Kernel::events && conn.valid()) {
    const IscsiConn& c = *conn.raw();
    const std::int32_t sid = c.session.valid() ? static_cast<std::int32_t>(c.session.raw()->id) : -1;
    kern::printk(EvSys::libiscsi, sid, "connection{}:{}: detected conn error ({})", sid, c.id, err);
  }
  if (fixed(Patch::p03))
    iscsi_conn_failure_p03(conn, err);
  else
    iscsi_conn_failure_pre_p03(conn, err);
}

// iscsi_suspend_queue: under frwd_lock, so nobody is inside queuecommand/xmit_task.
void iscsi_suspend_queue(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_suspend_queue");
  KPtr<IscsiSession> session = KRD(conn, session);
  Guard frwd(session.raw()->frwd_lock);
  KWRM(conn, suspend_tx) = true;
}

// iscsi_suspend_tx: no xmit workqueue for an offload LLD, so only the bit.
void iscsi_suspend_tx(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_suspend_tx");
  KWRM(conn, suspend_tx) = true;
}

// iscsi_start_tx
void iscsi_start_tx(KPtr<IscsiConn> conn) { KWRM(conn, suspend_tx) = false; }

// p03: iscsi_conn_unbind (transport->unbind_conn). Waits for running
// iscsi_eh_* calls to leave (eh_mutex), not for a TMF in flight.
void iscsi_conn_unbind(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_conn_unbind");
  if (!conn) return;
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  {
    Guard eh(s.eh_mutex);
    iscsi_suspend_queue(conn);
    iscsi_suspend_tx(conn);
    Guard frwd(s.frwd_lock);
    // if logout timed out before userspace could even send a PDU the state
    // might still be in ISCSI_STATE_LOGGED_IN and allowing new cmds and TMFs.
    if (KRD(session, state) == SessionState::LOGGED_IN) iscsi_set_conn_failed(conn);
  }
  probes().unbind_returned(conn);
}

// ---- TMFs -------------------------------------------------------------------

namespace {

// iscsi_tmf_timedout: tmf_timer, in the timer context. Before p06 the timer
// is the conn's (from_timer(conn, ...)), after it the session's.
void iscsi_tmf_timedout(KPtr<IscsiSession> session, KPtr<IscsiConn> conn) {
  KFunc f("iscsi_tmf_timedout");
  if (!fixed(Patch::p06)) {
    conn.use(AccessKind::timer, QEDISIM_FIELD("tmf_timer"));
    session = KRD(conn, session);
  }
  Guard frwd(session.raw()->frwd_lock);
  if (TMF(session, conn, read, tmf_state) == TmfState::QUEUED) {
    kern::printk(EvSys::libiscsi, static_cast<std::int32_t>(session.raw()->id), "tmf timedout");
    set_tmf_state(session, conn, TmfState::TIMEDOUT);
    TMF(session, conn, wake, ehwait).wake_up();  // unblock eh_abort()
  }
}

// iscsi_exec_task_mgmt_fn: caller holds eh_mutex and frwd_lock; both are
// dropped over the wait and retaken. 0, or -EPERM / -ENOTCONN.
int iscsi_exec_task_mgmt_fn(KPtr<IscsiConn> conn, const IscsiHdr& hdr, int age, Duration timeout) {
  KFunc f("iscsi_exec_task_mgmt_fn");
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  KPtr<IscsiTask> task = __iscsi_conn_send_pdu(conn, hdr);
  if (!task) {
    s.frwd_lock.unlock();
    iscsi_conn_failure(conn, ISCSI_ERR_CONN_FAILED);  // "Could not send TMF."
    s.frwd_lock.lock();
    return -1;  // -EPERM
  }
  TMF(session, conn, write, tmf_timer).mod_timer(timeout);
  kern::printk(EvSys::libiscsi, static_cast<std::int32_t>(s.id), "tmf set timeout: function {} lun {} rtt 0x{:x}",
               hdr.tm_function, hdr.lun, hdr.rtt);
  s.frwd_lock.unlock();
  s.eh_mutex.unlock();
  // block eh thread until: tmf response, tmf timeout, or session terminated/restarted/failed
  kern::WaitQueue& ehwait = TMF(session, conn, read, ehwait);
  kern::wait_event(ehwait, [&] {
    return age != KRD(session, age) || KRD(session, state) != SessionState::LOGGED_IN ||
           TMF(session, conn, read, tmf_state) != TmfState::QUEUED;
  });
  kern::point("libiscsi.exec_task_mgmt_fn.wait", s.id);
  TMF(session, conn, timer, tmf_timer).del_timer_sync();
  s.eh_mutex.lock();
  s.frwd_lock.lock();
  // if the session drops it will clean up the task
  if (age != KRD(session, age) || KRD(session, state) != SessionState::LOGGED_IN) return -107;  // -ENOTCONN
  return 0;
}

IscsiHdr iscsi_prep_tmf_pdu(std::uint8_t function, std::uint32_t lun, std::uint32_t rtt) {
  IscsiHdr hdr;
  hdr.opcode = ISCSI_OP_SCSI_TMFUNC;
  hdr.tm_function = function;
  hdr.lun = lun;
  hdr.rtt = rtt;
  return hdr;
}

}  // namespace

// iscsi_eh_abort: ABORT TASK for one command.
int iscsi_eh_abort(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_eh_abort");
  kern::printk(EvSys::libiscsi, static_cast<std::int32_t>(KRD(sc, session)), "aborting sc {}", sc.describe());
  KPtr<IscsiSession> session = driver().sessions.at(KRD(sc, session));
  if (!session) return FAILED;  // no session yet: nothing to reset
  IscsiSession& s = *session.raw();
  s.eh_mutex.lock();
  s.frwd_lock.lock();
  // if session was ISCSI_STATE_IN_RECOVERY then we may not have got the command.
  if (!KRD(sc, task)) {
    s.frwd_lock.unlock();
    s.eh_mutex.unlock();
    return SUCCESS;
  }
  // not logged in, or a new session: let the host reset code handle it
  if (!KRD(session, leadconn) || KRD(session, state) != SessionState::LOGGED_IN ||
      KRD(sc, scp_phase) != KRD(session, age)) {
    s.frwd_lock.unlock();
    s.eh_mutex.unlock();
    return FAILED;
  }
  KPtr<IscsiConn> conn = KRD(session, leadconn);
  const int age = KRD(session, age);
  KPtr<IscsiTask> task;
  {
    Guard back(s.back_lock);
    task = KRD(sc, task);
    if (!task || !KRD(task, sc)) {  // task completed before time out
      back.unlock();
      s.frwd_lock.unlock();
      s.eh_mutex.unlock();
      return SUCCESS;
    }
    __iscsi_get_task(task);
  }
  enum { kSuccess, kSuccessUnlocked, kFailed, kFailedUnlocked } out = kFailed;
  if (KRD(task, state) == TaskState::PENDING) {
    fail_scsi_task(task, DID_ABORT);
    out = kSuccess;
  } else if (TMF(session, conn, read, tmf_state) != TmfState::INITIAL) {
    out = kFailed;  // only have one tmf outstanding at a time
  } else {
    set_tmf_state(session, conn, TmfState::QUEUED);
    IscsiHdr& hdr = TMF(session, conn, write, tmhdr);
    hdr = iscsi_prep_tmf_pdu(ISCSI_TM_FUNC_ABORT_TASK, KRDF(task, hdr, lun), KRD(task, hdr_itt));
    if (iscsi_exec_task_mgmt_fn(conn, hdr, age, params().session_abort_timeout)) {
      out = kFailed;
    } else {
      switch (TMF(session, conn, read, tmf_state)) {
        case TmfState::SUCCESS:
          s.frwd_lock.unlock();
          // stop tx side incase the target had sent a abort rsp but the initiator was still writing out data.
          iscsi_suspend_tx(conn);
          s.frwd_lock.lock();
          fail_scsi_task(task, DID_ABORT);
          set_tmf_state(session, conn, TmfState::INITIAL);
          TMF(session, conn, write, tmhdr) = IscsiHdr{};
          s.frwd_lock.unlock();
          iscsi_start_tx(conn);
          out = kSuccessUnlocked;
          break;
        case TmfState::TIMEDOUT:
          s.frwd_lock.unlock();
          iscsi_conn_failure(conn, ISCSI_ERR_SCSI_EH_SESSION_RST);
          out = kFailedUnlocked;
          break;
        case TmfState::NOT_FOUND:
          // 5.12: success only if the task was freed (sc->SCp.ptr cleared), which
          // cannot happen while this function holds its reference.
          if (!KRD(sc, task)) {
            set_tmf_state(session, conn, TmfState::INITIAL);
            TMF(session, conn, write, tmhdr) = IscsiHdr{};
            out = kSuccess;
            break;
          }
          [[fallthrough]];
        default:
          set_tmf_state(session, conn, TmfState::INITIAL);
          out = kFailed;
          break;
      }
    }
  }
  if (out == kSuccess || out == kFailed) s.frwd_lock.unlock();
  // p05: without it this put may go through task->conn after iscsi_conn_teardown freed the conn.
  iscsi_put_task(task);
  s.eh_mutex.unlock();
  return (out == kSuccess || out == kSuccessUnlocked) ? SUCCESS : FAILED;
}

namespace {
// The body shared by iscsi_eh_device_reset (LU RESET) and iscsi_eh_target_reset (TARGET WARM RESET).
int iscsi_eh_reset(KPtr<ScsiCmnd> sc, std::uint8_t function, Duration timeout, std::int64_t fail_lun) {
  KPtr<IscsiSession> session = driver().sessions.at(KRD(sc, session));
  if (!session) return FAILED;  // no session yet: nothing to reset
  IscsiSession& s = *session.raw();
  int rc = FAILED;
  s.eh_mutex.lock();
  s.frwd_lock.lock();
  // Just check if we are not logged in. We cannot check for the phase because the reset could come from a ioctl.
  KPtr<IscsiConn> conn = KRD(session, leadconn);
  if (!conn || KRD(session, state) != SessionState::LOGGED_IN) {
    s.frwd_lock.unlock();
    s.eh_mutex.unlock();
    return FAILED;
  }
  if (TMF(session, conn, read, tmf_state) != TmfState::INITIAL) {  // one tmf at a time
    s.frwd_lock.unlock();
    s.eh_mutex.unlock();
    return FAILED;
  }
  set_tmf_state(session, conn, TmfState::QUEUED);
  IscsiHdr& hdr = TMF(session, conn, write, tmhdr);
  hdr = iscsi_prep_tmf_pdu(function, KRD(sc, lun), RESERVED_ITT);
  if (iscsi_exec_task_mgmt_fn(conn, hdr, KRD(session, age), timeout)) {
    s.frwd_lock.unlock();
    s.eh_mutex.unlock();
    return FAILED;
  }
  switch (TMF(session, conn, read, tmf_state)) {
    case TmfState::SUCCESS:
      break;
    case TmfState::TIMEDOUT:
      s.frwd_lock.unlock();
      iscsi_conn_failure(conn, ISCSI_ERR_SCSI_EH_SESSION_RST);
      s.eh_mutex.unlock();
      return FAILED;
    default:
      set_tmf_state(session, conn, TmfState::INITIAL);
      s.frwd_lock.unlock();
      s.eh_mutex.unlock();
      return FAILED;
  }
  rc = SUCCESS;
  s.frwd_lock.unlock();
  iscsi_suspend_tx(conn);
  s.frwd_lock.lock();
  TMF(session, conn, write, tmhdr) = IscsiHdr{};
  fail_scsi_tasks(conn, fail_lun, DID_ERROR);
  set_tmf_state(session, conn, TmfState::INITIAL);
  s.frwd_lock.unlock();
  iscsi_start_tx(conn);
  s.eh_mutex.unlock();
  return rc;
}
}  // namespace

// iscsi_eh_device_reset: LU RESET, then fail the LUN's commands with DID_ERROR.
int iscsi_eh_device_reset(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_eh_device_reset");
  kern::printk(EvSys::libiscsi, static_cast<std::int32_t>(KRD(sc, session)), "LU Reset [sc {} lun {}]", sc.describe(),
               KRD(sc, lun));
  return iscsi_eh_reset(sc, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, params().session_lu_reset_timeout,
                        static_cast<std::int64_t>(KRD(sc, lun)));
}

// iscsi_eh_target_reset: TARGET WARM RESET, then fail every command with DID_ERROR.
int iscsi_eh_target_reset(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_eh_target_reset");
  kern::printk(EvSys::libiscsi, static_cast<std::int32_t>(KRD(sc, session)), "tgt Reset [sc {}]", sc.describe());
  return iscsi_eh_reset(sc, ISCSI_TM_FUNC_TARGET_WARM_RESET, params().session_tgt_reset_timeout, -1);
}

// iscsi_eh_session_reset: drop the session and wait for relogin, termination or the replacement timeout.
int iscsi_eh_session_reset(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_eh_session_reset");
  KPtr<IscsiSession> session = driver().sessions.at(KRD(sc, session));
  if (!session) return FAILED;  // no session yet: nothing to reset
  IscsiSession& s = *session.raw();
  s.eh_mutex.lock();
  s.frwd_lock.lock();
  KPtr<IscsiConn> conn = KRD(session, leadconn);
  if (KRD(session, state) == SessionState::TERMINATE || !conn) {
    s.frwd_lock.unlock();
    s.eh_mutex.unlock();
    return FAILED;
  }
  s.frwd_lock.unlock();
  s.eh_mutex.unlock();
  // "we drop the lock here but the leadconn cannot be destoyed while we are
  // in the scsi eh": it can (iscsid's destroy_conn does not wait for the
  // EH); upstream took a conn reference here after the series ("scsi:
  // iscsi: Get ref to conn during reset handling", mailed May 2021).
  kern::point("libiscsi.eh_session_reset.unlocked", s.id);
  iscsi_conn_failure(conn, ISCSI_ERR_SCSI_EH_SESSION_RST);
  kern::wait_event(TMF(session, conn, read, ehwait), [&] {
    const SessionState st = KRD(session, state);
    return st == SessionState::TERMINATE || st == SessionState::LOGGED_IN || st == SessionState::RECOVERY_FAILED;
  });
  Guard eh(s.eh_mutex);
  Guard frwd(s.frwd_lock);
  return KRD(session, state) == SessionState::LOGGED_IN ? SUCCESS : FAILED;
}

// iscsi_eh_recover_target: target reset, else ERL0 session recovery.
int iscsi_eh_recover_target(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_eh_recover_target");
  int rc = iscsi_eh_target_reset(sc);
  if (rc == FAILED) {
    shost().note_eh_level(sc, EhLevel::session);
    rc = iscsi_eh_session_reset(sc);
  }
  return rc;
}

// iscsi_session_recovery_timedout (transport->session_recovery_timedout).
void iscsi_session_recovery_timedout(KPtr<IscsiSession> session) {
  KFunc f("iscsi_session_recovery_timedout");
  Guard frwd(session.raw()->frwd_lock);
  if (KRD(session, state) == SessionState::LOGGED_IN) return;
  set_session_state(session, SessionState::RECOVERY_FAILED);
  if (fixed(Patch::p06)) {
    KRD(session, tmf).ehwait.wake_up();
  } else if (KPtr<IscsiConn> lead = KRD(session, leadconn)) {
    lead.use(AccessKind::wake, QEDISIM_FIELD("ehwait")).tmf.ehwait.wake_up();  // session->leadconn->ehwait
  }
}

// iscsi_eh_cmd_timed_out (.eh_timed_out). The model keeps the 5.12 logic: more
// time while the session is not logged in or the task made progress; on the
// first real timeout a NOP-Out checks the transport and the timer is reset
// (have_checked_conn); the second timeout hands the command to the EH.
BlkEhTimerReturn iscsi_eh_cmd_timed_out(KPtr<ScsiCmnd> sc) {
  KFunc f("iscsi_eh_cmd_timed_out");
  KPtr<IscsiSession> session = driver().sessions.at(KRD(sc, session));
  IscsiSession& s = *session.raw();
  BlkEhTimerReturn rc = BlkEhTimerReturn::DONE;
  KPtr<IscsiTask> task;
  s.frwd_lock.lock();
  {
    Guard back(s.back_lock);
    task = KRD(sc, task);
    if (!task) {  // raced with completion
      back.unlock();
      s.frwd_lock.unlock();
      return BlkEhTimerReturn::DONE;
    }
    __iscsi_get_task(task);
  }
  KPtr<IscsiConn> conn = KRD(session, leadconn);
  const std::int64_t now = kern::Kernel::now_ns();
  auto ping_timed_out = [&] {
    return KRD(conn, ping_task) &&
           KRD(conn, last_recv_ns) + params().session_noop_interval.ns + params().session_noop_timeout.ns <= now;
  };
  if (KRD(session, state) != SessionState::LOGGED_IN || !conn) {
    rc = BlkEhTimerReturn::RESET_TIMER;  // in the middle of iscsi recovery
  } else if (KRD(task, last_xfer_ns) > KRD(task, last_timeout_ns)) {
    KWR(task, have_checked_conn) = false;  // making progress
    rc = BlkEhTimerReturn::RESET_TIMER;
  } else if (params().session_noop_interval.ns == 0 && params().session_noop_timeout.ns == 0) {
    rc = BlkEhTimerReturn::DONE;
  } else if (ping_timed_out()) {
    rc = BlkEhTimerReturn::RESET_TIMER;  // the transport check will fail the conn
  } else {
    bool older_progressed = false;
    {
      Guard back(s.back_lock);
      for (std::uint32_t i = 0; s.cmds && i < s.cmds->size(); ++i) {
        if (!s.cmds->live(i)) continue;
        KPtr<IscsiTask> running = s.cmds->at(i);
        if (running == task || !KRD(running, sc) || KRD(running, state) != TaskState::RUNNING) continue;
        if (KRD(running, sc).raw()->jiffies_at_alloc_ns > KRD(sc, jiffies_at_alloc_ns)) continue;
        if (KRD(running, last_xfer_ns) > KRD(task, last_timeout_ns)) older_progressed = true;
      }
    }
    if (older_progressed) {
      rc = BlkEhTimerReturn::RESET_TIMER;
    } else if (KRD(task, have_checked_conn)) {
      rc = BlkEhTimerReturn::DONE;
    } else if (KRD(conn, ping_task) || KRD(conn, ping_starting)) {
      KWR(task, have_checked_conn) = true;
      rc = BlkEhTimerReturn::RESET_TIMER;
    } else {
      iscsi_send_nopout(conn, nullptr);  // make sure there is a transport check done
      KWR(task, have_checked_conn) = true;
      rc = BlkEhTimerReturn::RESET_TIMER;
    }
  }
  s.frwd_lock.unlock();
  KWR(task, last_timeout_ns) = kern::Kernel::now_ns();
  iscsi_put_task(task);
  return rc;
}

namespace {
// iscsi_check_transport_timeouts: transport_timer, the NOP-Out ping.
void iscsi_check_transport_timeouts(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_check_transport_timeouts");
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  s.frwd_lock.lock();
  const std::int64_t now = kern::Kernel::now_ns();
  const std::int64_t recv = params().session_noop_interval.ns;
  const std::int64_t ping = params().session_noop_timeout.ns;
  if (KRD(session, state) != SessionState::LOGGED_IN || recv == 0) {
    s.frwd_lock.unlock();
    return;
  }
  if (KRD(conn, ping_task) && KRD(conn, last_recv_ns) + recv + ping <= now) {
    s.frwd_lock.unlock();
    iscsi_conn_failure(conn, ISCSI_ERR_NOP_TIMEDOUT);  // ping timeout
    return;
  }
  std::int64_t next;
  if (KRD(conn, last_recv_ns) + recv <= now) {
    // send a ping to try to provoke some traffic
    if (iscsi_send_nopout(conn, nullptr))
      next = now + Duration::from_s(1).ns;
    else
      next = KRD(conn, last_ping_ns) + ping;
  } else {
    next = KRD(conn, last_recv_ns) + recv;
  }
  KTIMER(conn, transport_timer).mod_timer(Duration{std::max<std::int64_t>(next - now, 1)});
  s.frwd_lock.unlock();
}
}  // namespace

// ---- session and connection lifetime ----------------------------------------

std::uint32_t iscsi_session_pool_size(std::uint32_t requested) {
  if (requested < ISCSI_TOTAL_CMDS_MIN) return requested;
  std::uint32_t total = requested > ISCSI_TOTAL_CMDS_MAX ? ISCSI_TOTAL_CMDS_MAX : requested;
  while ((total & (total - 1)) != 0) total &= total - 1;  // rounddown_pow_of_two
  return total;
}

// iscsi_session_setup (+ iscsi_pool_init): session, task pool, and (p06) the session's tmf_timer.
KPtr<IscsiSession> iscsi_session_setup(std::uint32_t id, std::uint32_t luns, std::uint32_t cmds_max) {
  KFunc f("iscsi_session_setup");
  KPtr<IscsiSession> session = session_slab().alloc(fmt::format("s{}", id));
  IscsiSession& s = *session.raw();
  s.id = id;
  s.luns = luns;
  s.state = SessionState::FREE;
  s.cls_state = ClsSessionState::FREE;  // iscsi_alloc_session
  s.cmds_max = iscsi_session_pool_size(cmds_max ? cmds_max : static_cast<std::uint32_t>(params().session_cmds_max));
  s.scsi_cmds_max = s.cmds_max > ISCSI_MGMT_CMDS_MAX + 1 ? s.cmds_max - ISCSI_MGMT_CMDS_MAX : 1;
  s.cmds = std::make_unique<kern::Pool<IscsiTask>>(s.cmds_max);
  s.tmf.tmf_state = TmfState::INITIAL;
  s.tmf.tmf_timer.setup([session] { iscsi_tmf_timedout(session, nullptr); });
  s.recovery_work.setup([session] { session_recovery_timedout(session); });
  s.tmf.tmf_timer.set_owner(session.header());
  s.recovery_work.set_owner(session.header());
  if (driver().sessions.size() <= id) driver().sessions.resize(id + 1);
  driver().sessions[id] = session;
  return session;
}

// iscsi_conn_setup: the conn, its login task (a pool slot), transport_timer and (pre-p06) tmf_timer.
KPtr<IscsiConn> iscsi_conn_setup(KPtr<IscsiSession> session, std::uint32_t conn_idx) {
  KFunc f("iscsi_conn_setup");
  KPtr<IscsiConn> conn = conn_slab().alloc(fmt::format("s{}c{}", session.raw()->id, conn_idx));
  IscsiConn& c = *conn.raw();
  c.session = session;
  c.id = conn_idx;
  c.c_stage = ConnStage::INITIAL;
  c.tmf.tmf_state = TmfState::INITIAL;
  c.transport_timer.setup([conn] { iscsi_check_transport_timeouts(conn); });
  c.tmf.tmf_timer.setup([conn] { iscsi_tmf_timedout(nullptr, conn); });
  c.transport_timer.set_owner(conn.header());
  c.tmf.tmf_timer.set_owner(conn.header());
  Guard frwd(session.raw()->frwd_lock);
  c.login_task = session.raw()->cmds->alloc(fmt::format("s{} login", session.raw()->id));
  if (c.login_task) c.login_task.raw()->itt = session.raw()->cmds->index_of(c.login_task);
  return conn;
}

// iscsi_conn_bind: the leading conn; queueing allowed again.
int iscsi_conn_bind(KPtr<IscsiSession> session, KPtr<IscsiConn> conn, bool is_leading) {
  KFunc f("iscsi_conn_bind");
  {
    Guard frwd(session.raw()->frwd_lock);
    if (is_leading) KWR(session, leadconn) = conn;
  }
  KWR(conn, suspend_rx) = false;
  KWRM(conn, suspend_tx) = false;
  KWR(conn, bound) = true;
  return 0;
}

// iscsi_conn_start (from qedi_conn_start): LOGGED_IN, unblock, wake the EH.
void iscsi_conn_start(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_conn_start");
  KPtr<IscsiSession> session = KRD(conn, session);
  {
    Guard frwd(session.raw()->frwd_lock);
    KWR(conn, c_stage) = ConnStage::STARTED;
    set_session_state(session, SessionState::LOGGED_IN);
    KWR(conn, last_recv_ns) = kern::Kernel::now_ns();
    KWR(conn, last_ping_ns) = kern::Kernel::now_ns();
    KWR(conn, ping_task) = nullptr;
    KWR(conn, ping_starting) = false;
    if (params().session_noop_interval.ns > 0 && params().session_noop_timeout.ns > 0)
      KTIMER(conn, transport_timer).mod_timer(params().session_noop_interval);
    switch (KRD(conn, stop_stage)) {
      case STOP_CONN_RECOVER:
        // unblock eh_abort() if it is blocked. re-try all commands after successful recovery
        KWR(conn, stop_stage) = 0;
        set_tmf_state(session, conn, TmfState::INITIAL);
        KWR(session, age) = (KRD(session, age) + 1) % 16;
        break;
      case STOP_CONN_TERM:
        KWR(conn, stop_stage) = 0;
        break;
      default:
        break;
    }
  }
  // The conn is started before the session is unblocked: the checkers judge
  // the unblock against the conn's state at that moment.
  probes().conn_started(conn);
  iscsi_unblock_session(session, "iscsi_conn_start");
  TMF(session, conn, wake, ehwait).wake_up();
}

// iscsi_conn_stop (.stop_conn): STOP_CONN_TERM or STOP_CONN_RECOVER; fails every task of the conn.
void iscsi_conn_stop(KPtr<IscsiConn> conn, int flag) {
  KFunc f("iscsi_conn_stop");
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  Guard eh(s.eh_mutex);
  s.frwd_lock.lock();
  if (KRD(conn, stop_stage) == STOP_CONN_TERM) {
    s.frwd_lock.unlock();
    return;
  }
  if (flag == STOP_CONN_TERM)
    set_session_state(session, SessionState::TERMINATE);
  else if (KRD(conn, stop_stage) != STOP_CONN_RECOVER)
    set_session_state(session, SessionState::IN_RECOVERY);
  const int old_stop_stage = KRD(conn, stop_stage);
  KWR(conn, stop_stage) = flag;
  s.frwd_lock.unlock();
  KTIMER(conn, transport_timer).del_timer_sync();
  iscsi_suspend_tx(conn);
  {
    Guard frwd(s.frwd_lock);
    KWR(conn, c_stage) = ConnStage::STOPPED;
  }
  if (flag == STOP_CONN_RECOVER && KRD(session, state) == SessionState::IN_RECOVERY &&
      old_stop_stage != STOP_CONN_RECOVER)
    iscsi_block_session(session, "iscsi_conn_stop");
  // flush queues
  Guard frwd(s.frwd_lock);
  fail_scsi_tasks(conn, -1, DID_TRANSPORT_DISRUPTED);
  fail_mgmt_tasks(session, conn);
  TMF(session, conn, write, tmhdr) = IscsiHdr{};
}

// p05: iscsi_session_has_tasks - any pool task still holding a scsi_cmnd.
bool iscsi_session_has_tasks(KPtr<IscsiSession> session) {
  IscsiSession& s = *session.raw();
  Guard back(s.back_lock);
  for (std::uint32_t i = 0; s.cmds && i < s.cmds->size(); ++i)
    if (s.cmds->live(i) && s.cmds->at(i).raw()->sc) return true;
  return false;
}

namespace {
// p05: drop eh_mutex and poll every session.teardown_poll (msleep(50), no limit)
// until no scsi-ml entry point holds a task ref, then retake it.
void iscsi_conn_teardown_wait_p05(KPtr<IscsiSession> session) {
  IscsiSession& s = *session.raw();
  s.eh_mutex.unlock();
  if (iscsi_session_has_tasks(session)) {
    kern::Context& self = kern::Kernel::get().current();
    kern::Kernel::get().wait_begin(self, "iscsi_session_has_tasks", false);
    while (iscsi_session_has_tasks(session)) kern::sleep_for(params().session_teardown_poll);
    kern::Kernel::get().wait_end(self, false);
  }
  s.eh_mutex.lock();
}
}  // namespace

// iscsi_conn_teardown (from qedi_conn_destroy): wake the EH, (p05) wait for task refs, free the conn.
void iscsi_conn_teardown(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_conn_teardown");
  KPtr<IscsiSession> session = KRD(conn, session);
  IscsiSession& s = *session.raw();
  KTIMER(conn, transport_timer).del_timer_sync();
  s.eh_mutex.lock();
  s.frwd_lock.lock();
  KWR(conn, c_stage) = ConnStage::CLEANUP_WAIT;
  if (KRD(session, leadconn) == conn) {
    // leading connection? then give up on recovery.
    set_session_state(session, SessionState::TERMINATE);
    TMF(session, conn, wake, ehwait).wake_up();
  }
  s.frwd_lock.unlock();
  if (fixed(Patch::p05)) iscsi_conn_teardown_wait_p05(session);
  // flush queued up work because we free the connection below
  iscsi_suspend_tx(conn);
  {
    Guard frwd(s.frwd_lock);
    {
      Guard back(s.back_lock);
      KPtr<IscsiTask> login = KRD(conn, login_task);
      if (login && s.cmds) s.cmds->free(login);
    }
    if (KRD(session, leadconn) == conn) KWR(session, leadconn) = nullptr;
  }
  s.eh_mutex.unlock();
  conn_slab().free(conn);  // iscsi_destroy_conn
}

// iscsi_pool_free: the task slots go (their memory is kept for stale readers).
void iscsi_pool_free(KPtr<IscsiSession> session) {
  KFunc f("iscsi_pool_free");
  auto& pool = KWR(session, cmds);
  if (pool) freed_pools().push_back(std::move(pool));
}

namespace {
// p07: the pool is freed after iscsi_remove_session (refactor only: nothing
// in the model touches the pool during removal).
void iscsi_session_teardown_pool_free_early_pre_p07(KPtr<IscsiSession> session) {
  if (!fixed(Patch::p07)) iscsi_pool_free(session);
}
void iscsi_session_teardown_pool_free_late_p07(KPtr<IscsiSession> session) {
  if (fixed(Patch::p07)) iscsi_pool_free(session);
}
}  // namespace

// iscsi_session_teardown (from qedi_session_destroy).
void iscsi_session_teardown(KPtr<IscsiSession> session) {
  KFunc f("iscsi_session_teardown");
  iscsi_session_teardown_pool_free_early_pre_p07(session);
  iscsi_remove_session(session);
  iscsi_session_teardown_pool_free_late_p07(session);
  KTIMER(session, recovery_work).del_timer();
  KWR(session, tmf).tmf_timer.del_timer();
  iscsi_session_put_dev(session);  // iscsi_free_session
}

// get_device(&cls_session->dev)
void iscsi_session_get_dev(KPtr<IscsiSession> session) { KWRM(session, dev_refs)++; }

// put_device(&cls_session->dev); the last one is iscsi_session_release.
void iscsi_session_put_dev(KPtr<IscsiSession> session) {
  KFunc f("put_device");
  if (--KWRM(session, dev_refs) == 0) session_slab().free(session);
}

}  // namespace qedisim::drv
