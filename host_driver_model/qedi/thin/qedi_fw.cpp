// Fast path (drivers/scsi/qedi/qedi_fw.c): WQEs into the SQ, CQE dispatch.
#include "hba_model/hsi/regs.h"
#include "hba_model/hsi/ring.h"
#include "host_driver_model/qedi/thin/qedi_thin.h"

namespace qedisim::qedi {

using namespace hsi;

// qedi_get_wqe_idx: next SQ slot, wrapping at the SQ size.
std::uint32_t QediCtx::qedi_get_wqe_idx(QediEndpoint& ep) {
  return RingIndex::slot(ep.fw_sq_prod_idx, ep.sq_size);
}

// qedi_ring_doorbell: publish the new producer index to the card.
void QediCtx::qedi_ring_doorbell(QediEndpoint& ep) {
  bar_->writel(reg_sq_doorbell(ep.iscsi_cid), ep.fw_sq_prod_idx);
}

void QediCtx::write_task_context(std::uint16_t tid, const IscsiTaskContext& ctx) {
  mem_->store(task_ctx_dma_ + static_cast<std::uint64_t>(tid) * sizeof(IscsiTaskContext), ctx);
}

void QediCtx::post_wqe(QediEndpoint& ep, std::uint16_t tid, std::uint8_t wqe_type) {
  IscsiWqe wqe;
  wqe.task_id = tid;
  wqe.wqe_type = wqe_type;
  mem_->store(ep.sq_dma + qedi_get_wqe_idx(ep) * sizeof(IscsiWqe), wqe);
  ++ep.fw_sq_prod_idx;
  qedi_ring_doorbell(ep);
}

// qedi_update_itt_map
void QediCtx::qedi_update_itt_map(std::uint16_t tid, std::uint32_t itt, QediCmd* cmd) {
  itt_map_[tid] = ItMap{itt, cmd};
}

// qedi_get_cmd_from_tid: matches on the cmd's current task_id, so a late CQE
// for a reused tid reaches the new owner.
QediCmd* QediCtx::qedi_get_cmd_from_tid(std::uint16_t tid) {
  if (tid >= itt_map_.size()) return nullptr;
  QediCmd* cmd = itt_map_[tid].cmd;
  return cmd && cmd->task_id == tid ? cmd : nullptr;
}

// A libiscsi task slot (iscsi_alloc_task) plus a tid (qedi_get_task_idx).
bool QediCtx::alloc_task(QediConn& conn, QediCmd*& cmd, std::uint16_t& tid) {
  if (conn.cmdpool.empty()) return false;
  const int t = tids_.qedi_get_task_idx();
  if (t < 0) {
    ++counters_.task_pool_full;  // "FW task context pool is full"
    return false;
  }
  cmd = &conn.cmds[conn.cmdpool.front()];
  conn.cmdpool.pop_front();
  tid = static_cast<std::uint16_t>(t);
  cmd->task_id = tid;
  qedi_update_itt_map(tid, cmd->itt, cmd);
  cmd->on_active_list = true;  // list_add_tail(&cmd->io_cmd, &qedi_conn->active_cmd_list)
  ++conn.active_cmd_count;
  return true;
}

// iscsi_free_task -> qedi_cleanup_task: off the active list, tid cleared,
// slot back to the pool.
void QediCtx::release_task(QediConn& conn, QediCmd& cmd) {
  if (cmd.on_active_list) {
    cmd.on_active_list = false;
    --conn.active_cmd_count;
  }
  if (cmd.task_id != kNoTid) {
    if (!tids_.qedi_clear_task_idx(cmd.task_id)) ++counters_.tid_double_clear;
    itt_map_[cmd.task_id] = ItMap{};
    cmd.task_id = kNoTid;
  }
  cmd.sc = nullptr;
  conn.cmdpool.push_back(cmd.itt);
}

void QediCtx::run_requeue(QediConn& conn) {
  while (!conn.requeue.empty()) {
    scsi::ScsiCmnd* sc = conn.requeue.front();
    if (!qedi_task_xmit(conn, sc)) return;
    conn.requeue.pop_front();
  }
}

// iscsi_queuecommand: no session or no login fails the command at once;
// no free task slot or tid is SCSI_MLQUEUE_HOST_BUSY (requeued in order).
void QediCtx::iscsi_queuecommand(scsi::ScsiCmnd* sc) {
  auto it = sessions_.find(sc->session);
  if (it == sessions_.end() || !it->second->logged_in) {
    sc->host_byte = scsi::DID_NO_CONNECT;
    if (scsi_done_) scsi_done_->scsi_done(sc);
    return;
  }
  QediConn& conn = *it->second;
  if (!conn.requeue.empty() || !qedi_task_xmit(conn, sc)) {
    ++counters_.cmds_requeued;
    conn.requeue.push_back(sc);
  }
}

// qedi_task_xmit -> qedi_iscsi_send_ioreq: zero and fill the task context,
// WQE into the SQ, doorbell. The CQ is the submitting CPU's.
bool QediCtx::qedi_task_xmit(QediConn& conn, scsi::ScsiCmnd* sc) {
  QediCmd* cmd = nullptr;
  std::uint16_t tid = 0;
  if (!alloc_task(conn, cmd, tid)) return false;
  cmd->sc = sc;
  cmd->opcode = ISCSI_OP_SCSI_CMD;
  IscsiTaskContext ctx;
  ctx.opcode = ISCSI_OP_SCSI_CMD;
  ctx.flags = sc->write ? TASK_FLAG_WRITE : TASK_FLAG_READ;
  ctx.cq_rss_number = static_cast<std::uint8_t>(sc->cpu % params_.num_queues);
  ctx.itt = qedi_set_itt(tid, cmd->itt);
  ctx.lun = sc->lun;
  ctx.data_length = sc->length;
  write_task_context(tid, ctx);
  post_wqe(*conn.ep, tid, ISCSI_WQE_TYPE_NORMAL);
  ++counters_.cmds_xmit;
  return true;
}

// qedi_send_iscsi_login: a management task, completes on CQ 0.
bool QediCtx::qedi_send_iscsi_login(QediConn& conn) {
  QediCmd* cmd = nullptr;
  std::uint16_t tid = 0;
  if (!alloc_task(conn, cmd, tid)) return false;
  cmd->opcode = ISCSI_OP_LOGIN;
  IscsiTaskContext ctx;
  ctx.opcode = ISCSI_OP_LOGIN;
  ctx.cq_rss_number = 0;
  ctx.itt = qedi_set_itt(tid, cmd->itt);
  write_task_context(tid, ctx);
  post_wqe(*conn.ep, tid, ISCSI_WQE_TYPE_LOGIN);
  return true;
}

// qedi_fp_process_cqes: dispatch by CQE type (SPEC.md 2.2).
void QediCtx::qedi_fp_process_cqes(const QediWork& work) {
  const IscsiCqe& cqe = work.cqe;
  ++counters_.cqes_processed;
  auto it = conn_cid_tbl_.find(cqe.conn_id);
  if (it == conn_cid_tbl_.end()) {
    ++counters_.cqe_no_session;  // "Session no longer exists"
    return;
  }
  QediConn& conn = *it->second;
  switch (cqe.cqe_type) {
    case ISCSI_CQE_TYPE_SOLICITED:
    case ISCSI_CQE_TYPE_SOLICITED_WITH_SENSE: {
      QediCmd* cmd = qedi_get_cmd_from_tid(cqe.itid);
      if (!cmd) {
        ++counters_.cqe_unknown_tid;
        return;
      }
      // qedi_mtask_completion by opcode.
      switch (cqe.opcode) {
        case ISCSI_OP_SCSI_CMD_RSP:
        case ISCSI_OP_SCSI_DATA_IN: qedi_scsi_completion(conn, *cmd, cqe); break;
        case ISCSI_OP_LOGIN_RSP: qedi_process_login_resp(conn, *cmd, cqe); break;
        default: release_task(conn, *cmd); break;  // logout, text, NOP-In: not used by this cut
      }
      return;
    }
    case ISCSI_CQE_TYPE_UNSOLICITED: ++counters_.cqe_unsolicited; return;
    case ISCSI_CQE_TYPE_DUMMY: ++counters_.cqe_dummy; return;
    case ISCSI_CQE_TYPE_TASK_CLEANUP: ++counters_.cqe_cleanup; return;  // qedi_process_cmd_cleanup_resp: later
    default: return;  // "Error cqe."
  }
}

// qedi_scsi_completion: result into the scsi_cmnd, task freed, scsi_done.
void QediCtx::qedi_scsi_completion(QediConn& conn, QediCmd& cmd, const IscsiCqe& cqe) {
  scsi::ScsiCmnd* sc = cmd.sc;
  release_task(conn, cmd);
  if (sc) {
    sc->host_byte = scsi::DID_OK;
    sc->status = cqe.scsi_status;
    if (scsi_done_) scsi_done_->scsi_done(sc);
  }
  run_requeue(conn);
}

// qedi_process_login_resp
void QediCtx::qedi_process_login_resp(QediConn& conn, QediCmd& cmd, const IscsiCqe& cqe) {
  release_task(conn, cmd);
  if (cqe.response == 0)
    conn.logged_in = true;
  else
    conn.login_failed = true;
  conn.login_wait.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace qedisim::qedi
