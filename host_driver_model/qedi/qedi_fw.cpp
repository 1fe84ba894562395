// Fast path, TMF works and cleanup (drivers/scsi/qedi/qedi_fw.c). Both
// versions of every function the series changed, chosen at the changed line.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "hba_model/hsi/regs.h"
#include "hba_model/hsi/ring.h"
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

namespace {
bool is_reset(std::uint8_t fn) {
  return fn == ISCSI_TM_FUNC_LOGICAL_UNIT_RESET || fn == ISCSI_TM_FUNC_TARGET_WARM_RESET ||
         fn == ISCSI_TM_FUNC_TARGET_COLD_RESET;
}
std::uint32_t session_age(KPtr<IscsiConn> conn) { return static_cast<std::uint32_t>(KRD(KRD(conn, session), age)); }
// build_itt(cqe->itid, conn->session->age) after qedi_fp_process_cqes put the
// PDU's proto itt into itid (qedi_get_itt).
std::uint32_t rsp_itt(const IscsiCqe& cqe, KPtr<IscsiConn> conn) {
  return build_itt(qedi_get_itt(cqe.itt), static_cast<int>(session_age(conn)));
}
}  // namespace

// ---- SQ ----------------------------------------------------------------------

// qedi_get_wqe_idx: follows qedi_conn->ep (a NULL ep is a null_deref).
std::uint32_t Qedi::qedi_get_wqe_idx(QediConn& qc) {
  const KPtr<QediEndpoint> ep = qc.ep;
  const std::uint32_t rval = KRD(ep, sq_prod_idx);
  KWR(ep, sq_prod_idx) = (rval + 1) % std::max<std::uint32_t>(1, KRD(ep, sq_size));
  KWR(ep, fw_sq_prod_idx)++;
  return rval;
}

// qedi_ring_doorbell: publish the new producer index to the card.
void Qedi::qedi_ring_doorbell(QediConn& qc) {
  const KPtr<QediEndpoint> ep = qc.ep;
  // db_data.sq_prod = fw_sq_prod_idx; wmb(); writel(db_data, p_doorbell): the
  // value is read before the doorbell's address, a window another poster may
  // use to ring a later producer first.
  const std::uint32_t sq_prod = KRD(ep, fw_sq_prod_idx);
  bar_->writel(reg_sq_doorbell(KRD(ep, iscsi_cid)), sq_prod);
}

void Qedi::write_task_context(std::uint32_t tid, const IscsiTaskContext& ctx) {
  mem_->store(task_ctx_dma_ + static_cast<std::uint64_t>(tid) * sizeof(IscsiTaskContext), ctx);
}

// task_params.sqe = &ep->sq[sq_idx]; memset; init_initiator_*_task.
void Qedi::write_wqe(QediConn& qc, std::uint32_t sq_idx, std::uint16_t tid, std::uint8_t wqe_type) {
  const std::uint64_t sq = KRD(qc.ep, sq_base);
  if (sq == 0) return;  // freed SQ (reached through a stale ep, already reported as uaf)
  IscsiWqe wqe;
  wqe.task_id = tid;
  wqe.wqe_type = wqe_type;
  mem_->store(sq + static_cast<std::uint64_t>(sq_idx) * sizeof(IscsiWqe), wqe);
  // The cid through raw(): bookkeeping for sq_overwrite, not a kernel access.
  probes().sq_slot_written(static_cast<std::uint16_t>(qc.ep.raw()->iscsi_cid), sq_idx, tid);
  // What the driver did for this tid is ordered before its CQE's handler
  // (the doorbell that follows is a release; data_race's happens-before).
  if (tid < itt_map_.size()) kern::Kernel::hb_send(&itt_map_[tid]);
}

// list_add_tail(&cmd->io_cmd, &qedi_conn->active_cmd_list) under list_lock.
void Qedi::active_list_add(QediConn& qc, KPtr<IscsiTask> task) {
  Guard g(qc.list_lock);
  qc.active_cmd_list.push_back(task);
  KWRF(task, dd_data, io_cmd_in_list) = true;
  qc.active_cmd_count++;
}

// list_del_init(&cmd->io_cmd) (the caller holds list_lock where the kernel does).
void Qedi::active_list_del(QediConn& qc, KPtr<IscsiTask> task) {
  auto& l = qc.active_cmd_list;
  // Mostly near the front (commands complete about in order) and there
  // once: one erase, the rest only compared. A second copy takes the
  // general removal.
  const auto first = std::find(l.begin(), l.end(), task);
  if (first == l.end()) return;
  if (std::find(first + 1, l.end(), task) == l.end())
    l.erase(first);
  else
    l.erase(std::remove(first, l.end(), task), l.end());
}

// The response handlers' "if (cmd->io_cmd_in_list) { io_cmd_in_list = 0;
// list_del_init; active_cmd_count-- }" (the caller holds the lock the kernel does).
void Qedi::active_list_remove(QediConn& qc, KPtr<IscsiTask> task, QediCmd& cmd) {
  if (!cmd.io_cmd_in_list) return;
  cmd.io_cmd_in_list = false;
  active_list_del(qc, task);
  if (qc.active_cmd_count) qc.active_cmd_count--;
}

// ---- xmit ----------------------------------------------------------------

// qedi_iscsi_send_ioreq: tid, task context, WQE, active list, doorbell. The
// CQ is the submitting CPU's.
int Qedi::qedi_iscsi_send_ioreq(KPtr<IscsiTask> task) {
  KFunc f("qedi_iscsi_send_ioreq");
  const KPtr<IscsiConn> conn = KRD(task, conn);
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<ScsiCmnd> sc = KRD(task, sc);
  const int tid = qedi_get_task_idx();
  if (tid == -1) return -12;  // -ENOMEM
  IscsiTaskContext ctx;       // memset(fw_task_ctx, 0, ...)
  KWRF(task, dd_data, task_id) = static_cast<std::uint16_t>(tid);
  const std::uint32_t hdr_itt = KRD(task, hdr_itt);
  qedi_update_itt_map(static_cast<std::uint32_t>(tid), KRD(task, itt), task);  // task->itt: the pool index
  ctx.opcode = ISCSI_OP_SCSI_CMD;
  ctx.flags = KRD(sc, op) == OpKind::write ? TASK_FLAG_WRITE : TASK_FLAG_READ;
  ctx.cq_rss_number = static_cast<std::uint8_t>(KRD(sc, cpu) % params_.num_queues);  // smp_processor_id()
  ctx.itt = qedi_set_itt(static_cast<std::uint16_t>(tid), get_itt(hdr_itt));
  ctx.lun = KRD(sc, lun);
  ctx.data_length = static_cast<std::uint32_t>(KRD(sc, size));
  write_task_context(static_cast<std::uint32_t>(tid), ctx);
  const std::uint32_t sq_idx = qedi_get_wqe_idx(qc);
  write_wqe(qc, sq_idx, static_cast<std::uint16_t>(tid), ISCSI_WQE_TYPE_NORMAL);
  active_list_add(qc, task);
  probes().wqe_posted(conn, static_cast<std::uint16_t>(tid), task, PduKind::scsi_cmd, false, ctx.itt);
  qedi_ring_doorbell(qc);
  return 0;
}

// The shared body of qedi_send_iscsi_login / _logout / _text / _nopout /
// send_iscsi_tmf without its ABORT part: login, logout, NOP and TMF
// complete on CQ 0.
int Qedi::send_mtask(QediConn& qc, KPtr<IscsiTask> task, std::uint8_t wqe_type, PduKind kind, bool active_list,
                     std::uint8_t flags) {
  const KPtr<IscsiConn> conn = KRD(task, conn);
  const int tid = qedi_get_task_idx();
  if (tid == -1) return -12;  // -ENOMEM
  IscsiTaskContext ctx;
  KWRF(task, dd_data, task_id) = static_cast<std::uint16_t>(tid);
  const std::uint32_t hdr_itt = KRD(task, hdr_itt);
  qedi_update_itt_map(static_cast<std::uint32_t>(tid), KRD(task, itt), task);  // task->itt: the pool index
  const IscsiHdr& hdr = KRD(task, hdr);
  ctx.opcode = hdr.opcode;
  ctx.flags = flags;
  ctx.cq_rss_number = 0;
  ctx.itt = hdr.itt == RESERVED_ITT ? RESERVED_ITT : qedi_set_itt(static_cast<std::uint16_t>(tid), get_itt(hdr_itt));
  ctx.lun = hdr.lun;
  write_task_context(static_cast<std::uint32_t>(tid), ctx);
  const std::uint32_t sq_idx = qedi_get_wqe_idx(qc);
  write_wqe(qc, sq_idx, static_cast<std::uint16_t>(tid), wqe_type);
  if (active_list) active_list_add(qc, task);
  probes().wqe_posted(conn, static_cast<std::uint16_t>(tid), task, kind, false, ctx.itt);
  qedi_ring_doorbell(qc);
  return 0;
}

// qedi_send_iscsi_login
int Qedi::qedi_send_iscsi_login(QediConn& qc, KPtr<IscsiTask> task) {
  KFunc f("qedi_send_iscsi_login");
  return send_mtask(qc, task, ISCSI_WQE_TYPE_LOGIN, PduKind::login, true, 0);
}

// qedi_send_iscsi_logout
int Qedi::qedi_send_iscsi_logout(QediConn& qc, KPtr<IscsiTask> task) {
  KFunc f("qedi_send_iscsi_logout");
  return send_mtask(qc, task, ISCSI_WQE_TYPE_MIDDLE_PATH, PduKind::logout, true, 0);
}

// qedi_send_iscsi_text
int Qedi::qedi_send_iscsi_text(QediConn& qc, KPtr<IscsiTask> task) {
  KFunc f("qedi_send_iscsi_text");
  return send_mtask(qc, task, ISCSI_WQE_TYPE_MIDDLE_PATH, PduKind::text, true, 0);
}

// qedi_send_iscsi_nopout: a ping of ours goes on the active list; a reply to
// a target NOP-In (itt RESERVED) does not and completes locally in firmware.
int Qedi::qedi_send_iscsi_nopout(QediConn& qc, KPtr<IscsiTask> task) {
  KFunc f("qedi_send_iscsi_nopout");
  const bool reply = KRDF(task, hdr, itt) == RESERVED_ITT;
  return send_mtask(qc, task, ISCSI_WQE_TYPE_MIDDLE_PATH, PduKind::nop_out, !reply, reply ? TASK_FLAG_LOCAL_COMP : 0);
}

// ---- CQE dispatch ------------------------------------------------------------

// qedi_fp_process_cqes (io thread)
void Qedi::qedi_fp_process_cqes(const QediWork& work) {
  const IscsiCqe& cqe = work.cqe;
  ++counters_.cqes_processed;
  // The WQE's doorbell -> its CQE's handler (the card in between).
  if (cqe.itid < itt_map_.size()) kern::Kernel::hb_recv(&itt_map_[cqe.itid]);
  if (kern::Kernel::events && cqe.itid < tid_flow_.size() && tid_flow_[cqe.itid])
    kern::emit_timeline(EvKind::flow_in, EvSys::qedi, "doorbell -> CQE", tid_flow_[cqe.itid]);
  auto it = conn_cid_tbl_.find(cqe.conn_id);
  if (it == conn_cid_tbl_.end() || it->second.is_null()) {
    ++counters_.cqe_no_session;
    kern::printk(EvSys::qedi, -1, "qedi: Session no longer exists for cid=0x{:x}!!", cqe.conn_id);
    return;
  }
  const KPtr<IscsiConn> conn = it->second;
  switch (cqe.cqe_type) {
    case ISCSI_CQE_TYPE_SOLICITED:
    case ISCSI_CQE_TYPE_SOLICITED_WITH_SENSE: {
      const KPtr<IscsiTask> task = work.task;  // qedi_cmd->task
      if (task.is_null()) return;              // "task is NULL"
      const IscsiHdr& hdr = KRD(task, hdr);
      if (hdr.opcode == ISCSI_OP_NOOP_OUT && hdr.itt == RESERVED_ITT && cqe.itid != 0xffffu)
        qedi_process_nopin_local_cmpl(cqe, task, conn);
      else
        qedi_mtask_completion(cqe, task, conn);
      return;
    }
    case ISCSI_CQE_TYPE_UNSOLICITED:
      if (cqe.opcode == ISCSI_OP_NOOP_IN)
        qedi_process_nopin_mesg(cqe, nullptr, conn);
      else
        qedi_process_unsol_mesg(cqe, conn);
      return;
    case ISCSI_CQE_TYPE_DUMMY:
      return;  // "Dummy CqE"
    case ISCSI_CQE_TYPE_TASK_CLEANUP:
      ++counters_.cleanup_cqes;
      qedi_process_cmd_cleanup_resp(cqe, conn);
      // Counted as handled (cleanup_stall, unnecessary_escalation) only once its handler
      // returned: a handler held at a failpoint is a CQ delay.
      probes().cleanup_cqe_handled(cqe.itid);
      return;
    default:
      return;  // "Error cqe."
  }
}

// qedi_mtask_completion: by response opcode.
void Qedi::qedi_mtask_completion(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_mtask_completion");
  switch (cqe.opcode) {
    case ISCSI_OP_SCSI_CMD_RSP:
    case ISCSI_OP_SCSI_DATA_IN:
      qedi_scsi_completion(cqe, task, conn);
      break;
    case ISCSI_OP_LOGIN_RSP:
      qedi_process_login_resp(cqe, task, conn);
      break;
    case ISCSI_OP_SCSI_TMFUNC_RSP:
      qedi_process_tmf_resp(cqe, task, conn);
      break;
    case ISCSI_OP_TEXT_RSP:
      qedi_process_text_resp(cqe, task, conn);
      break;
    case ISCSI_OP_LOGOUT_RSP:
      qedi_process_logout_resp(cqe, task, conn);
      break;
    case ISCSI_OP_NOOP_IN:
      qedi_process_nopin_mesg(cqe, task, conn);
      break;
    default:
      break;  // "unknown opcode"
  }
}

// qedi_scsi_completion. Before p09 it frees the tid here, before
// __iscsi_complete_pdu, while EH may still hold the task (p09 race).
void Qedi::qedi_scsi_completion(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_scsi_completion");
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  QediCmd& cmd = KWRS(task, dd_data);
  const KPtr<ScsiCmnd> sc = cmd.scsi_cmd;
  if (sc.is_null()) return;             // "sc_cmd is NULL!"
  if (KRD(sc, task).is_null()) return;  // "SCp.ptr is NULL, returned in another context."
  {
    Guard l(qc.list_lock);
    active_list_remove(qc, task, cmd);
  }
  cmd.state = CleanupState::RESPONSE_RECEIVED;
  if (!fixed(Patch::p09)) qedi_clear_task_idx(cmd.task_id);
  IscsiRsp rsp;
  rsp.opcode = cqe.opcode;
  rsp.itt = rsp_itt(cqe, conn);
  rsp.status = cqe.scsi_status;
  __iscsi_complete_pdu(conn, rsp);
}

// qedi_process_login_resp
void Qedi::qedi_process_login_resp(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_login_resp");
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  QediCmd& cmd = KWRS(task, dd_data);
  {
    Guard back(KRD(session, back_lock));
    active_list_remove(qc, task, cmd);
    IscsiRsp rsp;
    rsp.opcode = cqe.opcode;
    rsp.itt = rsp_itt(cqe, conn);
    rsp.response = cqe.response;
    __iscsi_complete_pdu(conn, rsp);
  }
  KWRF(task, dd_data, state) = CleanupState::RESPONSE_RECEIVED;
  if (!fixed(Patch::p09)) qedi_clear_task_idx(KRDF(task, dd_data, task_id));
}

// qedi_process_logout_resp
void Qedi::qedi_process_logout_resp(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_logout_resp");
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  QediCmd& cmd = KWRS(task, dd_data);
  active_list_remove(qc, task, cmd);
  cmd.state = CleanupState::RESPONSE_RECEIVED;
  if (!fixed(Patch::p09)) qedi_clear_task_idx(cmd.task_id);
  IscsiRsp rsp;
  rsp.opcode = cqe.opcode;
  rsp.itt = rsp_itt(cqe, conn);
  rsp.response = cqe.response;
  __iscsi_complete_pdu(conn, rsp);
}

// qedi_process_text_resp
void Qedi::qedi_process_text_resp(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_text_resp");
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  QediCmd& cmd = KWRS(task, dd_data);
  active_list_remove(qc, task, cmd);
  cmd.state = CleanupState::RESPONSE_RECEIVED;
  if (!fixed(Patch::p09)) qedi_clear_task_idx(cmd.task_id);
  IscsiRsp rsp;
  rsp.opcode = cqe.opcode;
  rsp.itt = rsp_itt(cqe, conn);
  __iscsi_complete_pdu(conn, rsp);
}

// qedi_process_nopin_mesg: a target ping (task NULL, itt RESERVED) or the
// answer to one of our NOP-Outs.
void Qedi::qedi_process_nopin_mesg(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_nopin_mesg");
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  IscsiRsp rsp;
  rsp.opcode = ISCSI_OP_NOOP_IN;
  if (cqe.cqe_type == ISCSI_CQE_TYPE_UNSOLICITED || task.is_null()) {
    rsp.itt = RESERVED_ITT;
  } else {
    QediCmd& cmd = KWRS(task, dd_data);
    rsp.itt = rsp_itt(cqe, conn);
    cmd.state = CleanupState::RESPONSE_RECEIVED;
    {
      Guard l(qc.list_lock);
      active_list_remove(qc, task, cmd);
    }
    if (!fixed(Patch::p09)) qedi_clear_task_idx(cmd.task_id);
  }
  __iscsi_complete_pdu(conn, rsp);
}

// qedi_process_nopin_local_cmpl: the firmware completed our answer to a
// target NOP-In; drop the task.
void Qedi::qedi_process_nopin_local_cmpl(const IscsiCqe& /*cqe*/, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_nopin_local_cmpl");
  KWRF(task, dd_data, state) = CleanupState::RESPONSE_RECEIVED;
  if (!fixed(Patch::p09)) qedi_clear_task_idx(KRDF(task, dd_data, task_id));
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  __iscsi_put_task(task);
}

// qedi_process_async_mesg / qedi_process_reject_mesg
void Qedi::qedi_process_unsol_mesg(const IscsiCqe& cqe, KPtr<IscsiConn> conn) {
  KFunc f(cqe.opcode == ISCSI_OP_REJECT ? "qedi_process_reject_mesg" : "qedi_process_async_mesg");
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  IscsiRsp rsp;
  rsp.opcode = cqe.opcode;
  rsp.itt = RESERVED_ITT;
  __iscsi_complete_pdu(conn, rsp);
}

// ---- TMF responses -----------------------------------------------------------

// qedi_process_tmf_resp (io thread): ABORT TASK completes at once; a reset
// goes to qedi_tmf_resp_work on the ordered TMF workqueue (after p16 not
// once ep_disconnect has started, and counted in fw_cleanup_works).
void Qedi::qedi_process_tmf_resp(const IscsiCqe& cqe, KPtr<IscsiTask> task, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_tmf_resp");
  QediConn& qc = KWRS(conn, dd_data);
  // qedi_cmd->tmf_resp_buf = kzalloc(sizeof(*resp_hdr_ptr), GFP_ATOMIC)
  const KPtr<QediTmfRspBuf> resp_hdr_ptr =
      kern::kzalloc(tmf_resp_bufs_, Gfp::atomic, "qedi_process_tmf_resp", task.header()->name.str(),
                    static_cast<long>(conn.raw()->session.raw()->id));  // for the report, not an access
  KWRF(task, dd_data, tmf_resp_buf) = resp_hdr_ptr;
  if (resp_hdr_ptr.is_null()) {
    ++counters_.alloc_failures;
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(conn)),
                 "qedi: Failed to allocate resp buf, cid=0x{:x}", qc.iscsi_conn_id);
    return;
  }
  kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(conn)),
               "qedi: TMF response 0x{:x} for itt 0x{:x}, cid=0x{:x}", cqe.response, cqe.itt, qc.iscsi_conn_id);
  const KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(KRD(session, back_lock));
  KWR(resp_hdr_ptr, opcode) = cqe.opcode;
  KWR(resp_hdr_ptr, response) = cqe.response;
  KWR(resp_hdr_ptr, itt) = rsp_itt(cqe, conn);
  const KPtr<IscsiTask> mtask = KRDF(task, dd_data, task);
  const std::uint8_t function = KRDF(mtask, hdr, tm_function);
  QediCmd& qedi_cmd = KWRS(task, dd_data);
  active_list_remove(qc, task, qedi_cmd);
  if (is_reset(function)) {
    if (fixed(Patch::p16)) {
      Guard g(qc.tmf_work_lock);
      // goto unblock_sess: resp_hdr_ptr is not freed (README Findings).
      if (KRDF(qc.cls_conn, dd_data, ep_disconnect_starting)) {
        kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(conn)),
                     "qedi: reset response during ep_disconnect: no reset work (session is down)");
        return;
      }
      KWRF(qc.cls_conn, dd_data, fw_cleanup_works)++;
    }
    TmfWork& w = alloc_tmf_work(task, conn, TmfWorkKind::reset_resp);
    ++counters_.reset_resp_works;
    probes().tmf_work_queued(conn, TmfWorkKind::reset_resp, &w);
    tmf_thread_->queue_work(w.work);
    return;
  }
  if (!fixed(Patch::p09)) qedi_clear_task_idx(qedi_cmd.task_id);
  IscsiRsp rsp;
  rsp.opcode = KRD(resp_hdr_ptr, opcode);
  rsp.itt = KRD(resp_hdr_ptr, itt);
  rsp.response = KRD(resp_hdr_ptr, response);
  __iscsi_complete_pdu(conn, rsp);
  tmf_resp_bufs_.free(resp_hdr_ptr);  // kfree(resp_hdr_ptr)
}

// qedi_tmf_resp_work (TMF workqueue): the bulk cleanup for a LU/target
// reset, then the response to libiscsi. Before p13 wrapped in
// iscsi_block_session / iscsi_unblock_session.
void Qedi::qedi_tmf_resp_work(TmfWork& w) {
  const KPtr<IscsiTask> mtask = w.mtask;
  const KPtr<IscsiConn> conn = KRDF(mtask, dd_data, conn);
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  const std::uint32_t sid = session_of(conn);
  probes().tmf_work_step(conn, TmfWorkKind::reset_resp, &w);
  if (!fixed(Patch::p16)) qc.fw_cleanup_flag = true;  // set_bit(QEDI_CONN_FW_CLEANUP)
  const KPtr<QediTmfRspBuf> resp_hdr_ptr = KRDF(mtask, dd_data, tmf_resp_buf);

  if (!fixed(Patch::p13)) iscsi_block_session(session, "qedi_tmf_resp_work");
  kern::point("qedi.tmf_resp_work.cleanup_all_io", sid);
  const int rval = qedi_cleanup_all_io(qc, mtask, true);
  probes().tmf_work_step(conn, TmfWorkKind::reset_resp, &w);
  if (rval) {
    if (!fixed(Patch::p09)) qedi_clear_task_idx(KRDF(mtask, dd_data, task_id));
    if (!fixed(Patch::p13)) iscsi_unblock_session(session, "qedi_tmf_resp_work");
  } else {
    if (!fixed(Patch::p13)) iscsi_unblock_session(session, "qedi_tmf_resp_work");
    if (!fixed(Patch::p09)) qedi_clear_task_idx(KRDF(mtask, dd_data, task_id));
    kern::point("qedi.tmf_resp_work.complete_rsp", sid);
    probes().tmf_work_step(conn, TmfWorkKind::reset_resp, &w);
    Guard back(KRD(session, back_lock));
    IscsiRsp rsp;
    rsp.opcode = KRD(resp_hdr_ptr, opcode);
    rsp.itt = KRD(resp_hdr_ptr, itt);
    rsp.response = KRD(resp_hdr_ptr, response);
    __iscsi_complete_pdu(conn, rsp);
  }
  // exit_tmf_resp: kfree through the work's local pointer, never the mtask,
  // which __iscsi_complete_pdu may have freed.
  tmf_resp_bufs_.free(resp_hdr_ptr);
  if (fixed(Patch::p16)) {
    Guard g(qc.tmf_work_lock);
    KWRF(qc.cls_conn, dd_data, fw_cleanup_works)--;
  } else {
    qc.fw_cleanup_flag = false;  // clear_bit(QEDI_CONN_FW_CLEANUP)
  }
}

// ---- cleanup -----------------------------------------------------------------

// qedi_iscsi_cleanup_task: a TASK_CLEANUP WQE for the task's tid; no new tid,
// not on the active list. Follows qedi_conn->ep (NULL after ep_disconnect).
int Qedi::qedi_iscsi_cleanup_task(KPtr<IscsiTask> task, bool /*mark_cmd_node_deleted*/) {
  KFunc f("qedi_iscsi_cleanup_task");
  const KPtr<IscsiConn> conn = KRD(task, conn);
  QediConn& qc = KWRS(conn, dd_data);
  const std::uint16_t tid = KRDF(task, dd_data, task_id);
  const std::uint32_t sq_idx = qedi_get_wqe_idx(qc);
  // An out-of-range tid (U16_MAX of a freed task) would make the firmware
  // reject the WQE; the read that found it is already reported as uaf (p10's race A).
  if (tid >= params_.tids) return -22;  // -EINVAL
  write_wqe(qc, sq_idx, tid, ISCSI_WQE_TYPE_TASK_CLEANUP);
  kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(conn)), "qedi: cleanup WQE tid=0x{:x} ({})", tid,
               task.describe());
  probes().cleanup_posted(tid, task);
  probes().wqe_posted(conn, tid, nullptr, PduKind::scsi_cmd, true, 0);
  qedi_ring_doorbell(qc);
  return 0;
}

// qedi_cleanup_all_io: cleanups for every listed command (or the
// reset LUN's), wait 1; on timeout mark every session missing, drain the
// card, wait 2, mark them available.
int Qedi::qedi_cleanup_all_io(QediConn& qc, KPtr<IscsiTask> task, bool /*in_recovery*/) {
  KFunc f("qedi_cleanup_all_io");
  const KPtr<IscsiConn> conn = qc.cls_conn;
  const KPtr<IscsiSession> session = KRD(conn, session);
  bool lun_reset = false;
  std::uint32_t lun = 0;
  if (!task.is_null()) {
    const IscsiHdr& tmf_hdr = KRD(task, hdr);
    if (tmf_hdr.tm_function == ISCSI_TM_FUNC_LOGICAL_UNIT_RESET) {
      lun_reset = true;
      lun = tmf_hdr.lun;
    }
  }
  KWRF(conn, dd_data, cmd_cleanup_req) = 0;
  KWRF(conn, dd_data, cmd_cleanup_cmpl) = 0;
  probes().cleanup_counters(conn, 0, 0);
  kern::emit_timeline(EvKind::counter, EvSys::qedi, "cmd_cleanup_req", 0, 0);
  kern::emit_timeline(EvKind::counter, EvSys::qedi, "cmd_cleanup_cmpl", 0, 0);

  std::vector<std::uint16_t> awaited;
  {
    std::optional<Guard> back;
    if (lun_reset) back.emplace(KRD(session, back_lock));
    Guard l(qc.list_lock);
    const std::vector<KPtr<IscsiTask>> list = qc.active_cmd_list;  // list_for_each_entry_safe
    for (const KPtr<IscsiTask>& ctask : list) {
      if (ctask == task) continue;
      if (lun_reset) {
        const KPtr<ScsiCmnd> sc = KRDF(ctask, dd_data, scsi_cmd);
        if (!sc.is_null() && KRD(sc, lun) != lun) continue;
      }
      // qedi_conn->cmd_cleanup_req++: a plain load and store.
      const std::uint32_t req = KRDF(conn, dd_data, cmd_cleanup_req);
      KWRF(conn, dd_data, cmd_cleanup_req) = req + 1;
      awaited.push_back(KRDF(ctask, dd_data, task_id));
      qedi_iscsi_cleanup_task(ctask, true);
      // cmd->io_cmd_in_list = false; list_del_init (since "scsi: qedi: Fix
      // list_del corruption while removing active I/O", in 5.12): a late
      // response handler then leaves the list and the count alone.
      KWRF(ctask, dd_data, io_cmd_in_list) = false;
      active_list_del(qc, ctask);
      if (qc.active_cmd_count) qc.active_cmd_count--;
    }
  }
  probes().cleanup_counters(conn, qc.cmd_cleanup_req, qc.cmd_cleanup_cmpl);
  kern::emit_timeline(EvKind::counter, EvSys::qedi, "cmd_cleanup_req", 0, qc.cmd_cleanup_req);
  kern::emit_timeline(EvKind::counter, EvSys::qedi, "cmd_cleanup_cmpl", 0, qc.cmd_cleanup_cmpl);
  const std::int32_t sid = static_cast<std::int32_t>(session_of(conn));
  kern::printk(EvSys::qedi, sid, "qedi: cid=0x{:x}, active_cmd_count={}, cmd_cleanup_req={}, lun_reset={}",
               qc.iscsi_conn_id, qc.active_cmd_count, qc.cmd_cleanup_req, lun_reset);

  auto counted = [&] { return KRDF(conn, dd_data, cmd_cleanup_req) == KRDF(conn, dd_data, cmd_cleanup_cmpl); };
  auto done = [&] { return counted() || in_recovery_; };
  probes().cleanup_wait_begin(conn, CleanupWaitKind::bulk_wait1, awaited,
                              kern::Kernel::now_ns() + params_.cleanup_wait.ns);
  const std::int64_t rval = kern::wait_event_timeout(qc.wait_queue, done, params_.cleanup_wait);
  probes().cleanup_wait_end(conn, CleanupWaitKind::bulk_wait1, rval == 0);
  if (rval) {
    kern::printk(EvSys::qedi, sid, "qedi: i/o cmd_cleanup_req={}, equal to cmd_cleanup_cmpl={}, cid=0x{:x}",
                 qc.cmd_cleanup_req, qc.cmd_cleanup_cmpl, qc.iscsi_conn_id);
    return 0;
  }
  ++counters_.cleanup_waits_timed_out;
  kern::printk(EvSys::qedi, sid, "qedi: i/o cmd_cleanup_req={}, not equal to cmd_cleanup_cmpl={}, cid=0x{:x}",
               qc.cmd_cleanup_req, qc.cmd_cleanup_cmpl, qc.iscsi_conn_id);

  const std::vector<KPtr<IscsiSession>> sessions = driver().sessions;  // iscsi_host_for_each_session
  for (const auto& s : sessions)
    if (s.valid()) qedi_mark_device_missing(s);
  qed_drain();
  probes().cleanup_wait_begin(conn, CleanupWaitKind::bulk_wait2, awaited,
                              kern::Kernel::now_ns() + params_.drain_wait.ns);
  const std::int64_t rval2 = kern::wait_event_timeout(qc.wait_queue, counted, params_.drain_wait);
  probes().cleanup_wait_end(conn, CleanupWaitKind::bulk_wait2, rval2 == 0);
  for (const auto& s : sessions)
    if (s.valid()) qedi_mark_device_available(s);
  return rval2 ? 0 : -1;
}

// qedi_clearsq (ep_disconnect): firmware clear_sq, then the bulk cleanup.
void Qedi::qedi_clearsq(QediConn& qc, KPtr<IscsiTask> task) {
  KFunc f("qedi_clearsq");
  const KPtr<QediEndpoint> ep = qc.ep;
  KWRF(qc.cls_conn, dd_data, cmd_cleanup_req) = 0;
  KWRF(qc.cls_conn, dd_data, cmd_cleanup_cmpl) = 0;
  if (ep.is_null()) return;  // "Cannot proceed, ep already disconnected"
  SpqEntry e;
  e.cmd_id = ISCSI_RAMROD_CMD_ID_CLEAR_SQ;
  e.cid = static_cast<std::uint16_t>(KRD(ep, iscsi_cid));
  qed_spq_wait(qed_spq_post(e), params_.ramrod_wait);
  if (qedi_cleanup_all_io(qc, task, true))
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(qc.cls_conn)),
                 "qedi: fatal error, need hard reset, cid=0x{:x}", qc.iscsi_conn_id);
}

// qedi_process_cmd_cleanup_resp (io thread): a TASK_CLEANUP CQE. Abort
// branch (matching work map; p10 rewrote it), bulk branch (cmd_cleanup_req > 0: before
// p17 a task lookup that may miss; clears the tid iff !p17 && (!p09 || p10)).
void Qedi::qedi_process_cmd_cleanup_resp(const IscsiCqe& cqe, KPtr<IscsiConn> conn) {
  KFunc f("qedi_process_cmd_cleanup_resp");
  const std::uint32_t proto_itt = cqe.itid;
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  const std::uint32_t sid = session_of(conn);
  kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: TASK_CLEANUP CQE itid=0x{:x}, cid=0x{:x}", cqe.itid,
               qc.iscsi_conn_id);

  Guard tmf(qc.tmf_work_lock);
  bool found = false;
  KPtr<IscsiTask> mtask;
  KPtr<IscsiTask> task;
  std::uint32_t rtid = 0;
  const std::vector<KPtr<QediWorkMap>> list = qc.tmf_work_list;
  for (const KPtr<QediWorkMap>& work : list) {
    if (KRD(work, rtid) != proto_itt) continue;
    mtask = KRD(work, qedi_cmd);  // qedi_cmd = work->qedi_cmd; mtask = qedi_cmd->task
    // !qedi_cmd->list_tmf_work: "TMF work not found" WARN_ON(1)
    found = true;
    if (fixed(Patch::p10)) task = KRD(work, ctask);
    rtid = KRD(work, rtid);
    auto& l = qc.tmf_work_list;  // list_del_init(&work->list)
    l.erase(std::remove(l.begin(), l.end(), work), l.end());
    KWR(work, listed) = false;
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: TMF work found for rtid 0x{:x}: kfree({})", rtid,
                 work.describe());
    work_maps_.free(work);  // kfree(work)
    KWRF(mtask, dd_data, list_tmf_work) = nullptr;
  }

  if (!fixed(Patch::p10)) {
    tmf.unlock();
    if (found) {
      kern::point("qedi.process_cmd_cleanup_resp.work_found", sid);
      // tmf_hdr->flags read after the lock is gone: the mtask may be freed (p10 race B).
      const IscsiHdr tmf_hdr = KRD(mtask, hdr);
      if (tmf_hdr.tm_function == ISCSI_TM_FUNC_ABORT_TASK) {
        {
          Guard back(KRD(session, back_lock));
          task = iscsi_itt_to_task(conn, build_itt(get_itt(tmf_hdr.rtt), static_cast<int>(session_age(conn))));
        }
        if (task.is_null()) return;  // "IO task completed"
        QediCmd& dbg_cmd = KWRS(task, dd_data);
        if (KRDF(mtask, dd_data, state) == CleanupState::CLEANUP_WAIT_FAILED)
          KWRF(mtask, dd_data, state) = CleanupState::CLEANUP_RECV;
        if (!fixed(Patch::p09)) qedi_clear_task_idx(rtid);
        {
          Guard l(qc.list_lock);
          active_list_remove(qc, task, dbg_cmd);
        }
        KWRF(mtask, dd_data, state) = CleanupState::CLEANUP_RECV;
        qc.wait_queue.wake_up();  // wake_up_interruptible
      }
      return;
    }
  } else if (found) {
    // p10: tmf_work_lock and back_lock held over the whole matched path.
    Guard back(KRD(session, back_lock));
    kern::point("qedi.process_cmd_cleanup_resp.work_found", sid);
    if (!iscsi_task_is_completed(task)) {
      QediCmd& dbg_cmd = KWRS(task, dd_data);
      {
        Guard l(qc.list_lock);
        active_list_remove(qc, task, dbg_cmd);
      }
      KWRF(mtask, dd_data, state) = CleanupState::CLEANUP_RECV;
    }  // else "IO task completed"
    back.unlock();
    tmf.unlock();
    qc.wait_queue.wake_up();
    return;
  } else {
    tmf.unlock();
  }

  // check_cleanup_reqs:
  if (KRDF(conn, dd_data, cmd_cleanup_req) > 0) {
    if (!fixed(Patch::p17)) {
      KPtr<IscsiTask> t;
      {
        Guard back(KRD(session, back_lock));
        const std::uint32_t ptmp_itt = qedi_get_proto_itt(cqe.itid);
        t = iscsi_itt_to_task(conn, build_itt(get_itt(ptmp_itt), static_cast<int>(session_age(conn))));
      }
      if (t.is_null()) {
        ++counters_.cleanup_task_null;
        kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: task is null, itid=0x{:x}, cid=0x{:x}",
                     cqe.itid, qc.iscsi_conn_id);
        return;
      }
    }
    // qedi_conn->cmd_cleanup_cmpl++ without a lock: a plain load and store.
    const std::uint32_t cmpl = KRDF(conn, dd_data, cmd_cleanup_cmpl);
    KWRF(conn, dd_data, cmd_cleanup_cmpl) = cmpl + 1;
    probes().cleanup_counters(conn, qc.cmd_cleanup_req, qc.cmd_cleanup_cmpl);
    kern::emit_timeline(EvKind::counter, EvSys::qedi, "cmd_cleanup_req", 0, qc.cmd_cleanup_req);
    kern::emit_timeline(EvKind::counter, EvSys::qedi, "cmd_cleanup_cmpl", 0, qc.cmd_cleanup_cmpl);
    qc.wait_queue.wake_up();
    if (!fixed(Patch::p17) && (!fixed(Patch::p09) || fixed(Patch::p10))) qedi_clear_task_idx(cqe.itid);
  } else {
    ++counters_.cleanup_untracked;
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid),
                 "qedi: Delayed or untracked cleanup response, itt=0x{:x}, tid=0x{:x}, cid=0x{:x}", cqe.itt, cqe.itid,
                 qc.iscsi_conn_id);
  }
}

// ---- abort path (TMF workqueue) ----------------------------------------------

// qedi_wait_for_cleanup_request: CLEANUP_RECV on the mtask, or the victim's
// own response, within qedi.abort_cleanup_wait.
int Qedi::qedi_wait_for_cleanup_request(QediConn& qc, KPtr<IscsiTask> task, KPtr<IscsiTask> mtask,
                                        KPtr<QediWorkMap> /*list_work*/) {
  KFunc f("qedi_wait_for_cleanup_request");
  const KPtr<IscsiConn> conn = qc.cls_conn;
  const std::uint16_t victim_tid = KRDF(task, dd_data, task_id);
  auto cond = [&] {
    const QediCmd& qedi_cmd = KRDS(mtask, dd_data);
    return qedi_cmd.state == CleanupState::CLEANUP_RECV ||
           (qedi_cmd.type == TYPEIO && KRDF(task, dd_data, state) == CleanupState::RESPONSE_RECEIVED);
  };
  probes().cleanup_wait_begin(conn, CleanupWaitKind::abort_victim, {victim_tid},
                              kern::Kernel::now_ns() + params_.abort_cleanup_wait.ns);
  const std::int64_t wait = kern::wait_event_timeout(qc.wait_queue, cond, params_.abort_cleanup_wait);
  probes().cleanup_wait_end(conn, CleanupWaitKind::abort_victim, wait == 0);
  if (!wait) {
    ++counters_.cleanup_waits_timed_out;
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(conn)),
                 "qedi: Cleanup timedout tid=0x{:x}, issue connection recovery, cid=0x{:x}", victim_tid,
                 qc.iscsi_conn_id);
    KWRF(mtask, dd_data, state) = CleanupState::CLEANUP_WAIT_FAILED;
    return -1;
  }
  return 0;
}

// qedi_abort_work (qedi_tmf_work before p11), on the ordered TMF workqueue.
void Qedi::qedi_abort_work(TmfWork& w) {
  const KPtr<IscsiTask> mtask = w.mtask;  // container_of(work, struct qedi_cmd, tmf_work)
  const KPtr<IscsiConn> conn = KRDF(mtask, dd_data, conn);
  QediConn& qc = KWRS(conn, dd_data);
  const KPtr<IscsiSession> session = KRD(conn, session);
  const std::uint32_t sid = session_of(conn);
  const IscsiHdr tmf_hdr = KRD(mtask, hdr);
  probes().tmf_work_step(conn, TmfWorkKind::abort, &w);
  if (!fixed(Patch::p16)) qc.fw_cleanup_flag = true;  // set_bit(QEDI_CONN_FW_CLEANUP)
  kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: abort work for rtt 0x{:x} ({}), cid=0x{:x}",
               tmf_hdr.rtt, mtask.describe(), qc.iscsi_conn_id);

  // clear_cleanup (abort_ret before p10): the end of the work.
  auto clear_cleanup = [&] {
    if (fixed(Patch::p16)) {
      Guard g(qc.tmf_work_lock);
      KWRF(qc.cls_conn, dd_data, fw_cleanup_works)--;
    } else {
      qc.fw_cleanup_flag = false;
    }
  };
  // put_task: p10's reference on the victim.
  auto put_task = [&](KPtr<IscsiTask> ctask) {
    if (fixed(Patch::p10)) iscsi_put_task(ctask);
    clear_cleanup();
  };

  KPtr<IscsiTask> ctask;
  if (fixed(Patch::p10)) {
    Guard back(KRD(session, back_lock));
    ctask = iscsi_itt_to_ctask(conn, tmf_hdr.rtt);
    if (ctask.is_null() || iscsi_task_is_completed(ctask)) {
      back.unlock();
      kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: Task already completed");
      clear_cleanup();
      return;
    }
    __iscsi_get_task(ctask);
  } else {
    ctask = iscsi_itt_to_task(conn, tmf_hdr.rtt);
    if (ctask.is_null() || KRD(ctask, sc).is_null()) {
      kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: Task already completed");
      clear_cleanup();
      return;
    }
  }
  kern::point("qedi.abort_work.victim_lookup", sid);
  probes().tmf_work_step(conn, TmfWorkKind::abort, &w);

  // p12: GFP_ATOMIC before, GFP_NOIO after; same site both sides of p11.
  const KPtr<QediWorkMap> list_work =
      kern::kzalloc(work_maps_, fixed(Patch::p12) ? Gfp::noio : Gfp::atomic, "qedi_abort_work",
                    fmt::format("s{} rtt 0x{:02x}", sid, get_itt(tmf_hdr.rtt)), static_cast<long>(sid));
  if (list_work.is_null()) {
    ++counters_.alloc_failures;
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(sid), "qedi: Memory allocation failed");
    put_task(ctask);
    return;
  }
  KWRF(mtask, dd_data, type) = TYPEIO;
  if (fixed(Patch::p11)) KWRF(mtask, dd_data, state) = CleanupState::CLEANUP_WAIT;
  KWR(list_work, qedi_cmd) = mtask;
  KWR(list_work, rtid) = KRDF(ctask, dd_data, task_id);
  if (fixed(Patch::p10)) KWR(list_work, ctask) = ctask;
  KWRF(mtask, dd_data, list_tmf_work) = list_work;
  {
    Guard g(qc.tmf_work_lock);
    qc.tmf_work_list.push_back(list_work);
    KWR(list_work, listed) = true;
  }
  kern::point("qedi.abort_work.before_cleanup", sid);
  probes().tmf_work_step(conn, TmfWorkKind::abort, &w);

  qedi_iscsi_cleanup_task(ctask, false);
  const int rval = qedi_wait_for_cleanup_request(qc, ctask, mtask, list_work);
  kern::point("qedi.abort_work.cleanup_wait", sid);
  probes().tmf_work_step(conn, TmfWorkKind::abort, &w);

  bool ldel = rval == -1;  // "FW cleanup got escalated"
  if (!ldel) {
    kern::point("qedi.abort_work.send_tmf", sid);
    probes().tmf_work_step(conn, TmfWorkKind::abort, &w);
    if (!fixed(Patch::p11)) {
      // The first tid, overwritten by send_iscsi_tmf's own (p11's leak).
      const int tid = qedi_get_task_idx();
      if (tid == -1) {
        ldel = true;  // "Invalid tid"
      } else {
        KWRF(mtask, dd_data, task_id) = static_cast<std::uint16_t>(tid);
        probes().tid_bound(static_cast<std::uint16_t>(tid), mtask);
      }
    }
    if (!ldel) {
      send_iscsi_tmf(qc, mtask, fixed(Patch::p15) ? ctask : KPtr<IscsiTask>());
      kern::point("qedi.abort_work.put_task", sid);
      put_task(ctask);
      return;
    }
  }

  // ldel_exit:
  kern::point("qedi.abort_work.ldel_exit", sid);
  probes().tmf_work_step(conn, TmfWorkKind::abort, &w);
  {
    Guard g(qc.tmf_work_lock);
    const bool listed = !KRDF(mtask, dd_data, list_tmf_work).is_null();
    // p08: the test was inverted, so a map the CQE handler already freed is freed again.
    if (fixed(Patch::p08) ? listed : !listed) {
      auto& l = qc.tmf_work_list;
      l.erase(std::remove(l.begin(), l.end(), list_work), l.end());
      KWR(list_work, listed) = false;  // list_del_init(&list_work->list)
      KWRF(mtask, dd_data, list_tmf_work) = nullptr;
      work_maps_.free(list_work);
    }
  }
  {
    Guard l(qc.list_lock);
    QediCmd& cmd = KWRS(ctask, dd_data);
    active_list_remove(qc, ctask, cmd);
  }
  put_task(ctask);
}

// send_iscsi_tmf (qedi_send_iscsi_tmf before p11): the TMF PDU's own tid,
// WQE and doorbell. ABORT TASK names the victim's tid in its RTT: before p15
// found by a second, unlocked lookup; after it the task the work pinned.
int Qedi::send_iscsi_tmf(QediConn& qc, KPtr<IscsiTask> mtask, KPtr<IscsiTask> ctask) {
  KFunc f(fixed(Patch::p11) ? "send_iscsi_tmf" : "qedi_send_iscsi_tmf");
  const KPtr<IscsiConn> conn = qc.cls_conn;
  const IscsiHdr tmf_hdr = KRD(mtask, hdr);
  if (qc.ep.is_null()) return -19;  // -ENODEV
  const int tid = qedi_get_task_idx();
  if (tid == -1) return -12;  // -ENOMEM
  IscsiTaskContext ctx;
  KWRF(mtask, dd_data, task_id) = static_cast<std::uint16_t>(tid);
  const std::uint32_t hdr_itt = KRD(mtask, hdr_itt);
  qedi_update_itt_map(static_cast<std::uint32_t>(tid), KRD(mtask, itt), mtask);
  ctx.itt = qedi_set_itt(static_cast<std::uint16_t>(tid), get_itt(hdr_itt));
  ctx.lun = tmf_hdr.lun;
  if (tmf_hdr.tm_function == ISCSI_TM_FUNC_ABORT_TASK) {
    if (!fixed(Patch::p15)) {
      ctask = iscsi_itt_to_task(conn, tmf_hdr.rtt);
      if (ctask.is_null() || KRD(ctask, sc).is_null()) return 0;  // "Could not get reference task"
    }
    const std::uint16_t vtid = KRDF(ctask, dd_data, task_id);
    ctx.rtt = qedi_set_itt(vtid, get_itt(tmf_hdr.rtt));
    probes().abort_sent(vtid, ctask);
  } else {
    ctx.rtt = ISCSI_RESERVED_TAG;
  }
  ctx.opcode = ISCSI_OP_SCSI_TMFUNC;
  ctx.tmf_function = tmf_hdr.tm_function;
  ctx.cq_rss_number = 0;
  write_task_context(static_cast<std::uint32_t>(tid), ctx);
  const std::uint32_t sq_idx = qedi_get_wqe_idx(qc);
  write_wqe(qc, sq_idx, static_cast<std::uint16_t>(tid), ISCSI_WQE_TYPE_MIDDLE_PATH);
  active_list_add(qc, mtask);
  probes().wqe_posted(conn, static_cast<std::uint16_t>(tid), mtask, PduKind::tmf, false, ctx.itt);
  qedi_ring_doorbell(qc);
  return 0;
}

// qedi_send_iscsi_tmf (qedi_iscsi_abort_work before p11): ABORT TASK goes to
// the abort work; resets are sent from here (before p11 after taking a
// first tid that send_iscsi_tmf then overwrites).
int Qedi::qedi_send_iscsi_tmf(QediConn& qc, KPtr<IscsiTask> mtask) {
  KFunc f(fixed(Patch::p11) ? "qedi_send_iscsi_tmf" : "qedi_iscsi_abort_work");
  const KPtr<IscsiConn> conn = qc.cls_conn;
  const std::uint8_t fn = KRDF(mtask, hdr, tm_function);
  if (!fixed(Patch::p11)) KWRF(mtask, dd_data, task) = mtask;
  if (fn == ISCSI_TM_FUNC_ABORT_TASK) {
    if (!fixed(Patch::p11)) KWRF(mtask, dd_data, state) = CleanupState::CLEANUP_WAIT;
    if (fixed(Patch::p16)) {
      Guard g(qc.tmf_work_lock);
      KWRF(qc.cls_conn, dd_data, fw_cleanup_works)++;
    }
    TmfWork& w = alloc_tmf_work(mtask, conn, TmfWorkKind::abort);
    ++counters_.abort_works;
    probes().tmf_work_queued(conn, TmfWorkKind::abort, &w);
    tmf_thread_->queue_work(w.work);
    return 0;
  }
  if (is_reset(fn)) {
    if (fixed(Patch::p11)) return send_iscsi_tmf(qc, mtask, nullptr);
    const int tid = qedi_get_task_idx();
    if (tid == -1) return -1;  // "Invalid tid"
    KWRF(mtask, dd_data, task_id) = static_cast<std::uint16_t>(tid);
    probes().tid_bound(static_cast<std::uint16_t>(tid), mtask);
    send_iscsi_tmf(qc, mtask, nullptr);
    return 0;
  }
  return fixed(Patch::p11) ? -22 : -1;  // "Invalid tmf"
}

// INIT_WORK(&qedi_cmd->tmf_work, fn) + the item queue_work gets.
Qedi::TmfWork& Qedi::alloc_tmf_work(KPtr<IscsiTask> mtask, KPtr<IscsiConn> conn, TmfWorkKind kind) {
  TmfWork* w = nullptr;
  for (auto& item : tmf_works_)
    if (!item->busy) {
      w = item.get();
      break;
    }
  if (!w) {
    tmf_works_.push_back(std::make_unique<TmfWork>());
    w = tmf_works_.back().get();
  }
  w->busy = true;
  w->mtask = mtask;
  w->conn = conn;
  w->kind = kind;
  if (kind == TmfWorkKind::abort)
    w->work.name = fixed(Patch::p11) ? "qedi_abort_work" : "qedi_tmf_work";
  else
    w->work.name = "qedi_tmf_resp_work";
  w->work.fn = [this, w] {
    struct Done {
      Qedi* q;
      TmfWork* w;
      ~Done() {
        probes().tmf_work_done(w->conn, w->kind, w);
        w->busy = false;
        q->activity_.note();
      }
    } done{this, w};
    if (w->kind == TmfWorkKind::abort)
      qedi_abort_work(*w);
    else
      qedi_tmf_resp_work(*w);
  };
  return *w;
}

}  // namespace qedisim::drv
