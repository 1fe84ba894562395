// The transport ops and connection lifetime (drivers/scsi/qedi/qedi_iscsi.c).
#include <fmt/format.h>

#include "hba_model/hsi/regs.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/alloc.h"
#include "host_driver_model/kernel/lock.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/libiscsi/transport_iscsi.h"
#include "host_driver_model/qedi/qedi.h"

namespace qedisim::drv {

using namespace hsi;
using kern::Guard;
using kern::KFunc;
using kern::KPtr;

// ---- xmit ----------------------------------------------------------------

// qedi_session_create: cmds_max at most qedi->max_sqes (QEDI_SQ_SIZE, the
// SQ's entries), else at least QEDI_SQ_WQES_MIN, before iscsi_session_setup.
std::uint32_t Qedi::session_cmds_max(std::uint32_t requested) const {
  constexpr std::uint32_t kQediSqWqesMin = 16;  // QEDI_SQ_WQES_MIN
  if (requested > params_.sq_depth) return params_.sq_depth;
  if (requested < kQediSqWqesMin) return kQediSqWqesMin;
  return requested;
}

// qedi_task_xmit (.xmit_task), called by libiscsi under frwd_lock. p09 resets
// task_id/scsi_cmd first so a task that never reaches the firmware frees no
// tid in qedi_cleanup_task; p14 refuses IO while the card is drained.
int Qedi::xmit_task(KPtr<IscsiTask> task) {
  KFunc f("qedi_task_xmit");
  const KPtr<IscsiConn> conn = KRD(task, conn);
  (void)KRDS(conn, dd_data);  // conn->dd_data
  const KPtr<ScsiCmnd> sc = KRD(task, sc);
  PduKind kind = PduKind::scsi_cmd;
  if (sc.is_null()) {
    switch (KRDF(task, hdr, opcode)) {
      case ISCSI_OP_SCSI_TMFUNC:
        kind = PduKind::tmf;
        break;
      case ISCSI_OP_NOOP_OUT:
        kind = PduKind::nop_out;
        break;
      case ISCSI_OP_LOGOUT:
        kind = PduKind::logout;
        break;
      case ISCSI_OP_TEXT:
        kind = PduKind::text;
        break;
      default:
        kind = PduKind::login;
        break;
    }
  }
  probes().xmit_entry(conn, kind);
  QediCmd& cmd = KWRS(task, dd_data);
  if (fixed(Patch::p09)) {
    // "Clear now so in cleanup_task we know it didn't make it"
    cmd.scsi_cmd = nullptr;
    if (cmd.task_id != kNoTid) probes().tid_unbound(task, cmd.task_id);
    cmd.task_id = kNoTid;
  }
  if (in_shutdown_) return -19;                    // -ENODEV (QEDI_IN_SHUTDOWN)
  if (fixed(Patch::p14) && block_io_) return -13;  // -EACCES (QEDI_BLOCK_IO)
  cmd.state = CleanupState::NONE;
  cmd.conn = conn;
  cmd.task = task;
  cmd.io_cmd_in_list = false;
  if (sc.is_null()) return qedi_mtask_xmit(conn, task);
  cmd.scsi_cmd = sc;
  return qedi_iscsi_send_ioreq(task);
}

// qedi_mtask_xmit
int Qedi::qedi_mtask_xmit(KPtr<IscsiConn> conn, KPtr<IscsiTask> task) {
  KFunc f("qedi_mtask_xmit");
  QediCmd& cmd = KWRS(task, dd_data);
  cmd.conn = conn;
  if (!fixed(Patch::p09)) cmd.scsi_cmd = nullptr;  // moved into qedi_task_xmit by p09
  return qedi_iscsi_send_generic_request(task);
}

// qedi_iscsi_send_generic_request: by PDU opcode.
int Qedi::qedi_iscsi_send_generic_request(KPtr<IscsiTask> task) {
  KFunc f("qedi_iscsi_send_generic_request");
  const KPtr<IscsiConn> conn = KRDF(task, dd_data, conn);
  QediConn& qc = KWRS(conn, dd_data);
  switch (KRDF(task, hdr, opcode)) {
    case ISCSI_OP_LOGIN:
      qedi_send_iscsi_login(qc, task);  // return value ignored, as in the kernel
      return 0;
    case ISCSI_OP_NOOP_OUT:
      return qedi_send_iscsi_nopout(qc, task);
    case ISCSI_OP_LOGOUT:
      return qedi_send_iscsi_logout(qc, task);
    case ISCSI_OP_SCSI_TMFUNC:
      return qedi_send_iscsi_tmf(qc, task);
    case ISCSI_OP_TEXT:
      return qedi_send_iscsi_text(qc, task);
    default:
      return 0;  // "unsupported op"
  }
}

// qedi_cleanup_task (.cleanup_task), from iscsi_free_task at the last put,
// under back_lock. After p09 the only place a tid is freed.
void Qedi::cleanup_task(KPtr<IscsiTask> task) {
  KFunc f("qedi_cleanup_task");
  if (!fixed(Patch::p09)) {
    if (KRD(task, sc).is_null() || KRD(task, state) == TaskState::PENDING) return;  // "Returning ref_cnt"
    return;  // qedi_iscsi_unmap_sg_list: no payload in the model
  }
  if (KRD(task, state) == TaskState::PENDING) return;
  QediCmd& cmd = KWRS(task, dd_data);
  if (cmd.task_id != kNoTid) qedi_clear_task_idx(cmd.task_id);
  if (cmd.task_id != kNoTid) probes().tid_unbound(task, cmd.task_id);
  cmd.task_id = kNoTid;
  cmd.scsi_cmd = nullptr;
}

// ---- session state helpers (p14) ----------------------------------------

// qedi_mark_device_missing: before p14 iscsi_block_session; after it the
// host flag QEDI_BLOCK_IO under the session's frwd_lock.
void Qedi::qedi_mark_device_missing(KPtr<IscsiSession> session) {
  KFunc f("qedi_mark_device_missing");
  if (!fixed(Patch::p14)) {
    iscsi_block_session(session, "qedi_mark_device_missing");
    return;
  }
  const KPtr<IscsiConn> leadconn = KRD(session, leadconn);
  (void)KRDS(leadconn, dd_data);  // session->leadconn->dd_data
  Guard g(KRD(session, frwd_lock));
  block_io_ = true;
}

// qedi_mark_device_available
void Qedi::qedi_mark_device_available(KPtr<IscsiSession> session) {
  KFunc f("qedi_mark_device_available");
  if (!fixed(Patch::p14)) {
    iscsi_unblock_session(session, "qedi_mark_device_available");
    return;
  }
  const KPtr<IscsiConn> leadconn = KRD(session, leadconn);
  (void)KRDS(leadconn, dd_data);
  Guard g(KRD(session, frwd_lock));
  block_io_ = false;
}

// ---- endpoint and connection ---------------------------------------------

std::uint64_t Qedi::qedi_alloc_sq() {
  if (!free_sqs_.empty()) {
    const std::uint64_t sq = free_sqs_.back();
    free_sqs_.pop_back();
    return sq;
  }
  return mem_->dma_alloc_coherent(static_cast<std::size_t>(params_.sq_depth) * sizeof(IscsiWqe));
}

void Qedi::qedi_free_sq(std::uint64_t sq) {
  if (sq) free_sqs_.push_back(sq);
}

// qedi_ep_connect + qedi_offload_work + qedi_ep_poll: endpoint, SQ, cid
// (qed acquire_conn), the offload ramrod, and the wait for its completion.
KPtr<QediEndpoint> Qedi::ep_connect(std::uint32_t session_id) {
  KFunc f("qedi_ep_connect");
  kern::wait_event(probe_wait_, [&] { return probed_; });
  if (in_shutdown_ || in_recovery_) return {};
  const KPtr<QediEndpoint> ep = eps_.alloc(fmt::format("s{}", session_id));  // iscsi_create_endpoint
  KWR(ep, ep_state) = EpState::IDLE;
  KWR(ep, portal) = session_id;
  KWR(ep, sq_base) = qedi_alloc_sq();
  KWR(ep, sq_size) = params_.sq_depth;
  std::uint32_t cid = 0;
  while (cids_in_use_.count(cid)) ++cid;
  cids_in_use_.insert(cid);
  KWR(ep, iscsi_cid) = cid;
  KWR(ep, ep_state) = EpState::OFLDCONN_START;
  ep_tbl_[cid] = ep;

  SpqEntry e;
  e.cmd_id = ISCSI_RAMROD_CMD_ID_OFFLOAD_CONN;
  e.cid = static_cast<std::uint16_t>(cid);
  e.sq_base = KRD(ep, sq_base);
  e.sq_size = KRD(ep, sq_size);
  e.target_portal = session_id;
  qed_spq_post(e);
  kern::wait_event_timeout(
      KRD(ep, tcp_ofld_wait), [&] { return ep.raw()->ep_state != EpState::OFLDCONN_START; }, params_.ramrod_wait);
  if (KRD(ep, ep_state) == EpState::OFLDCONN_COMPL) return ep;

  // ep_rel_conn / ep_free_sq / ep_conn_exit
  ep_tbl_.erase(cid);
  cids_in_use_.erase(cid);
  qedi_free_sq(KRD(ep, sq_base));
  KWR(ep, sq_base) = 0;
  eps_.free(ep);  // iscsi_destroy_endpoint
  return {};
}

// qedi_conn_create (.create_conn): libiscsi's conn, then the login resources.
KPtr<IscsiConn> Qedi::create_conn(KPtr<IscsiSession> session, std::uint32_t conn_idx) {
  KFunc f("qedi_conn_create");
  const KPtr<IscsiConn> conn = iscsi_conn_setup(session, conn_idx);
  if (conn.is_null()) return {};
  if (qedi_conn_alloc_login_resources(KWRS(conn, dd_data), session_of(conn))) {
    iscsi_conn_teardown(conn);  // free_conn
    return {};
  }
  return conn;
}

// qedi_conn_alloc_login_resources: gen_pdu's request and response buffers
// (and their BD tables, not modelled), GFP_KERNEL.
int Qedi::qedi_conn_alloc_login_resources(QediConn& qc, std::uint32_t session_id) {
  KFunc f("qedi_conn_alloc_login_resources");
  qc.gen_pdu_req_buf = kern::kzalloc(gen_pdu_bufs_, Gfp::kernel, "qedi_conn_alloc_login_resources",
                                     fmt::format("s{} req_buf", session_id), static_cast<long>(session_id));
  if (qc.gen_pdu_req_buf.is_null()) return -12;  // -ENOMEM
  qc.gen_pdu_resp_buf = kern::kzalloc(gen_pdu_bufs_, Gfp::kernel, "qedi_conn_alloc_login_resources",
                                      fmt::format("s{} resp_buf", session_id), static_cast<long>(session_id));
  if (qc.gen_pdu_resp_buf.is_null()) {
    gen_pdu_bufs_.free(qc.gen_pdu_req_buf);  // login_req_buf_failed
    qc.gen_pdu_req_buf = nullptr;
    return -12;
  }
  return 0;
}

// qedi_conn_free_login_resources
void Qedi::qedi_conn_free_login_resources(QediConn& qc) {
  gen_pdu_bufs_.free(qc.gen_pdu_resp_buf);
  qc.gen_pdu_resp_buf = nullptr;
  gen_pdu_bufs_.free(qc.gen_pdu_req_buf);
  qc.gen_pdu_req_buf = nullptr;
}

// qedi_conn_bind (.bind_conn); scsi_transport_iscsi has run iscsi_conn_bind.
int Qedi::bind_conn(KPtr<IscsiConn> conn, KPtr<QediEndpoint> ep) {
  KFunc f("qedi_conn_bind");
  if (ep.is_null()) return -22;
  QediConn& qc = KWRS(conn, dd_data);
  KWR(ep, conn) = conn;
  qc.ep = ep;
  qc.iscsi_ep = ep;
  qc.cls_conn = conn;
  qc.iscsi_conn_id = KRD(ep, iscsi_cid);
  conn_cid_tbl_[qc.iscsi_conn_id] = conn;  // qedi_bind_conn_to_iscsi_cid
  return 0;
}

// qedi_conn_start (.start_conn): p16 resets the TMF-work count and the
// disconnect flag; before it the QEDI_CONN_FW_CLEANUP bit is cleared.
int Qedi::start_conn(KPtr<IscsiConn> conn) {
  KFunc f("qedi_conn_start");
  QediConn& qc = KWRS(conn, dd_data);
  if (fixed(Patch::p16)) {
    Guard g(qc.tmf_work_lock);
    KWRF(qc.cls_conn, dd_data, fw_cleanup_works) = 0;
    KWRF(qc.cls_conn, dd_data, ep_disconnect_starting) = false;
  } else {
    qc.fw_cleanup_flag = false;
  }
  qc.abrt_conn = 0;
  iscsi_conn_start(conn);
  return 0;
}

// qedi_conn_destroy (.destroy_conn)
void Qedi::destroy_conn(KPtr<IscsiConn> conn) {
  KFunc f("qedi_conn_destroy");
  qedi_conn_free_login_resources(KWRS(conn, dd_data));
  iscsi_conn_teardown(conn);
}

// qedi_session_destroy (.destroy_session)
void Qedi::destroy_session(KPtr<IscsiSession> session) {
  KFunc f("qedi_session_destroy");
  iscsi_session_teardown(session);
}

// qedi_cleanup_active_cmd_list (HBA recovery only)
void Qedi::qedi_cleanup_active_cmd_list(QediConn& qc) {
  qc.active_cmd_list.clear();
  qc.active_cmd_count = 0;
}

// qedi_ep_disconnect (.ep_disconnect): wait for TMF works (before
// p16 the QEDI_CONN_FW_CLEANUP bit, at most ep_disconnect_max_polls polls;
// after it fw_cleanup_works without limit), clear the SQ if commands are
// active, destroy the firmware conn, free the SQ, qedi_conn->ep = NULL.
void Qedi::ep_disconnect(KPtr<QediEndpoint> ep) {
  KFunc f("qedi_ep_disconnect");
  if (ep.is_null()) return;
  const KPtr<IscsiConn> conn = KRD(ep, conn);
  probes().ep_disconnect_entered(conn);
  const std::uint32_t sid = KRD(ep, portal);
  kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: ep_disconnect cid=0x{:x}", KRD(ep, iscsi_cid));
  bool recovering = false;
  int abrt_conn = 0;
  // flush_work(&qedi_ep->offload_work): the model offloads inline in ep_connect.
  if (!conn.is_null()) {
    QediConn& qc = KWRS(conn, dd_data);
    if (!fixed(Patch::p04)) iscsi_suspend_queue(conn);
    abrt_conn = qc.abrt_conn;
    if (fixed(Patch::p16)) {
      {
        Guard g(qc.tmf_work_lock);
        KWRF(qc.cls_conn, dd_data, ep_disconnect_starting) = true;
      }
      for (;;) {
        kern::point("qedi.ep_disconnect.tmf_wait", sid);
        Guard g(qc.tmf_work_lock);
        if (KRDF(qc.cls_conn, dd_data, fw_cleanup_works) <= 0) break;
        g.unlock();
        kern::sleep_for(params_.ep_disconnect_poll);  // msleep(1000)
      }
    } else {
      for (std::uint32_t count = params_.ep_disconnect_max_polls; count-- > 0;) {
        kern::point("qedi.ep_disconnect.tmf_wait", sid);
        if (!qc.fw_cleanup_flag) break;
        kern::sleep_for(params_.ep_disconnect_poll);
      }
    }
    probes().ep_disconnect_barrier(conn);
    if (in_recovery_) {
      qedi_cleanup_active_cmd_list(qc);
      recovering = true;
    }
  } else {
    probes().ep_disconnect_barrier(conn);
  }

  if (!recovering) {
    switch (KRD(ep, ep_state)) {
      case EpState::OFLDCONN_START:
        recovering = true;  // goto ep_release_conn
        break;
      case EpState::OFLDCONN_COMPL:
        if (conn.is_null()) break;
        abrt_conn = KRDF(conn, dd_data, active_cmd_count) ? 1 : 0;
        if (abrt_conn) qedi_clearsq(KWRS(conn, dd_data), nullptr);
        break;
      default:
        break;
    }
  }
  if (!recovering) {
    KWR(ep, ep_state) = EpState::DISCONN_START;
    SpqEntry e;
    e.cmd_id = ISCSI_RAMROD_CMD_ID_TERMINATION_CONN;
    e.flags = abrt_conn ? SPQ_FLAG_ABORTIVE : 0;
    e.cid = static_cast<std::uint16_t>(KRD(ep, iscsi_cid));
    qed_spq_post(e);
    kern::wait_event_timeout(
        KRD(ep, tcp_ofld_wait), [&] { return ep.raw()->ep_state != EpState::DISCONN_START; },
        params_.destroy_conn_wait);  // "Destroy conn timedout or interrupted" otherwise
  }

  // ep_release_conn (qed release_conn) / ep_exit_recover:
  const std::uint32_t cid = KRD(ep, iscsi_cid);
  KWR(ep, ep_state) = EpState::IDLE;
  ep_tbl_.erase(cid);
  conn_cid_tbl_.erase(cid);
  cids_in_use_.erase(cid);
  qedi_free_sq(KRD(ep, sq_base));
  KWR(ep, sq_base) = 0;
  if (!conn.is_null()) {
    QediConn& qc = KWRS(conn, dd_data);
    qc.ep = nullptr;
    if (const kern::ObjectHeader* h = conn.header()) probes().pointer_nulled(*h, "ep", QediEndpoint::kTypeName);
  }
  KWR(ep, conn) = nullptr;
  eps_.free(ep);  // iscsi_destroy_endpoint
  kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: ep_disconnect done");
  probes().ep_disconnect_returned(conn);
  activity_.note();
}

// qedi_clear_session_ctx (__qedi_remove, hba.remove): the driver's own
// teardown without scsi_transport_iscsi, so no unbind_conn. After p04 it
// suspends the queue itself before qedi_ep_disconnect.
void Qedi::qedi_clear_session_ctx(KPtr<IscsiSession> session) {
  KFunc f("qedi_clear_session_ctx");
  const KPtr<IscsiConn> conn = KRD(session, leadconn);
  QediConn& qc = KWRS(conn, dd_data);  // conn->dd_data
  bool online;
  {
    Guard g(session.raw()->cls_lock);
    online = KRD(session, cls_state) == ClsSessionState::LOGGED_IN;  // iscsi_is_session_online
  }
  if (online) {
    if (fixed(Patch::p04) && !conn.is_null()) iscsi_suspend_queue(conn);
    ep_disconnect(qc.iscsi_ep);
  }
  destroy_conn(conn);        // qedi_conn_destroy(qedi_conn->cls_conn)
  destroy_session(session);  // qedi_session_destroy(cls_sess)
}

}  // namespace qedisim::drv
