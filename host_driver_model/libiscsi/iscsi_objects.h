// libiscsi and scsi_transport_iscsi objects (include/scsi/libiscsi.h,
// scsi_transport_iscsi.h). dd_data of the task and the conn is qedi's
// (qedi_cmd, qedi_conn): the model has one LLD, so it is embedded by type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host_driver_model/kernel/lock.h"
#include "host_driver_model/kernel/pool.h"
#include "host_driver_model/kernel/slab.h"
#include "host_driver_model/kernel/timer.h"
#include "host_driver_model/kernel/wait.h"
#include "host_driver_model/qedi/qedi_objects.h"
#include "host_driver_model/scsi/scsi_objects.h"

namespace qedisim::drv {

struct IscsiConn;
struct IscsiSession;

// enum iscsi_task_state
enum class TaskState { FREE, COMPLETED, PENDING, RUNNING, ABRT_TMF, ABRT_SESS_RECOV, REQUEUE_SCSIQ };

// TMF_INITIAL etc. (drivers/scsi/libiscsi.c)
enum class TmfState { INITIAL, QUEUED, SUCCESS, FAILED, TIMEDOUT, NOT_FOUND };
inline const char* tmf_state_name(TmfState s) {
  constexpr const char* kNames[] = {"INITIAL", "QUEUED", "SUCCESS", "FAILED", "TIMEDOUT", "NOT_FOUND"};
  return kNames[static_cast<int>(s)];
}

// enum iscsi_session_state: session->state (libiscsi's own view)
enum class SessionState { FREE, LOGGED_IN, FAILED, TERMINATE, IN_RECOVERY, RECOVERY_FAILED, LOGGING_OUT };
inline const char* session_state_name(SessionState s) {
  constexpr const char* kNames[] = {"FREE",        "LOGGED_IN",       "FAILED",     "TERMINATE",
                                    "IN_RECOVERY", "RECOVERY_FAILED", "LOGGING_OUT"};
  return kNames[static_cast<int>(s)];
}

// iscsi_cls_session->state (the transport class view; driver_session_state, docs/invariants.md)
enum class ClsSessionState { LOGGED_IN, FAILED, FREE };

// conn->c_stage
enum class ConnStage { INITIAL, STARTED, STOPPED, CLEANUP_WAIT };

// The PDU header fields the model needs (struct iscsi_hdr / iscsi_tm / iscsi_scsi_req).
struct IscsiHdr {
  std::uint8_t opcode = 0;  // hsi::IscsiOpcode
  std::uint32_t itt = 0;    // libiscsi's itt (build_itt: task index | age)
  std::uint32_t lun = 0;
  std::uint8_t tm_function = 0;  // hsi::IscsiTmFunc for ISCSI_OP_SCSI_TMFUNC
  std::uint32_t rtt = 0;         // ABORT TASK: the victim's hdr_itt
};

// struct iscsi_task: a pool slot, SCSI command or management PDU.
struct IscsiTask {
  static constexpr const char* kTypeName = "iscsi_task";

  IscsiHdr hdr;
  std::uint32_t hdr_itt = 0;  // itt as sent on the wire
  std::uint32_t itt = 0;      // pool index
  kern::KPtr<ScsiCmnd> sc;    // NULL for management tasks and once freed
  kern::KPtr<IscsiConn> conn;
  TaskState state = TaskState::FREE;
  int refcount = 0;  // refcount_t: __iscsi_get_task / __iscsi_put_task
  std::int64_t last_xfer_ns = 0;
  std::int64_t last_timeout_ns = 0;
  bool have_checked_conn = false;  // iscsi_eh_cmd_timed_out sent a NOP-Out for it

  QediCmd dd_data;  // struct qedi_cmd (task->dd_data)

  // The pool item is kzalloc'd once (iscsi_pool_init); libiscsi never clears
  // dd_data and qedi resets at xmit what it uses, never tmf_resp_buf: a slot
  // leaving the pool keeps that pointer (kmemleak follows it).
  void reinit() {
    const kern::KPtr<QediTmfRspBuf> keep = dd_data.tmf_resp_buf;
    this->~IscsiTask();
    new (this) IscsiTask();
    dd_data.tmf_resp_buf = keep;
  }
};

// The TMF state that lived on the conn before p06 and on the session after it.
struct TmfFields {
  kern::WaitQueue ehwait{"ehwait"};
  IscsiHdr tmhdr;
  kern::Timer tmf_timer{"tmf_timer", nullptr};
  TmfState tmf_state = TmfState::INITIAL;
};

// struct iscsi_conn + struct iscsi_cls_conn (+ qedi_conn as dd_data).
struct IscsiConn {
  static constexpr const char* kTypeName = "iscsi_conn";
  static constexpr const char* kSizeClass = "kzalloc(iscsi_cls_conn + iscsi_conn + qedi_conn)";  // iscsi_create_conn

  kern::KPtr<IscsiSession> session;
  std::uint32_t id = 0;  // "s0c0"
  ConnStage c_stage = ConnStage::INITIAL;
  bool suspend_tx = false;  // ISCSI_SUSPEND_BIT in conn->suspend_tx
  bool suspend_rx = false;
  bool bound = false;  // an endpoint is bound (iscsi_conn_bind)
  int stop_stage = 0;

  TmfFields tmf;  // used only before p06 (iscsi_conn_setup initialised them there)

  kern::KPtr<IscsiTask> login_task;
  kern::KPtr<IscsiTask> ping_task;  // outstanding NOP-Out
  bool ping_starting = false;       // ping_task == INVALID_SCSI_TASK (iscsi_send_nopout)
  kern::KPtr<QediEndpoint> ep;      // iscsi_cls_conn->ep: the bound endpoint (scsi_transport_iscsi)
  kern::Timer transport_timer{"transport_timer", nullptr};
  std::int64_t last_recv_ns = 0;
  std::int64_t last_ping_ns = 0;

  QediConn dd_data;  // struct qedi_conn (conn->dd_data)
};

// struct iscsi_session + iscsi_cls_session.
struct IscsiSession {
  static constexpr const char* kTypeName = "iscsi_session";
  static constexpr const char* kSizeClass = "kzalloc(iscsi_cls_session + iscsi_session)";  // iscsi_alloc_session

  std::uint32_t id = 0;  // "s0"
  std::uint32_t luns = 1;
  // iscsi_cls_session->dev's kref: the session is allocated inside the
  // cls_session and goes at the last put_device (iscsi_session_release),
  // not at teardown while a scsi_device below still holds the device.
  int dev_refs = 1;
  SessionState state = SessionState::FREE;
  int age = 0;
  kern::KPtr<IscsiConn> leadconn;

  kern::SpinLock frwd_lock{"frwd_lock"};
  kern::SpinLock back_lock{"back_lock"};
  kern::Mutex eh_mutex{"eh_mutex"};

  TmfFields tmf;  // used from p06 on (iscsi_session_setup)

  std::unique_ptr<kern::Pool<IscsiTask>> cmds;  // session->cmdpool; freed by iscsi_pool_free
  std::uint32_t cmds_max = 128;
  std::uint32_t scsi_cmds_max = 113;  // cmds_max - ISCSI_MGMT_CMDS_MAX: the target's can_queue

  // Transport class (scsi_transport_iscsi.c).
  kern::SpinLock cls_lock{"cls_session->lock"};  // iscsi_cls_session->lock: guards cls_state
  ClsSessionState cls_state = ClsSessionState::LOGGED_IN;
  bool target_blocked = false;                          // scsi_target_block / unblock of its devices
  kern::Timer recovery_work{"recovery_work", nullptr};  // replacement timeout
  bool relogin_pending = false;
};

// kmemleak: the pointer fields of each libiscsi object (kern::RefVisitor).
// A session reaches every slot of its task pool (session->cmds[]).
template <typename V>
void scan_refs(const IscsiTask& t, V& v) {
  v(t.sc);
  v(t.conn);
  scan_refs(t.dd_data, v);
}
template <typename V>
void scan_refs(const IscsiConn& c, V& v) {
  v(c.session);
  v(c.login_task);
  v(c.ping_task);
  v(c.ep);
  scan_refs(c.dd_data, v);
}
template <typename V>
void scan_refs(const IscsiSession& s, V& v) {
  v(s.leadconn);
  if (s.cmds) s.cmds->scan_slots(v);
}

}  // namespace qedisim::drv
