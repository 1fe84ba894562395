#include "sim/failpoints/catalog.h"

namespace qedisim {

namespace {
constexpr unsigned kStep = kMatchSession | kMatchNth;  // qedi.* and libiscsi.* points
}

const std::vector<PointInfo>& point_catalog() {
  static const std::vector<PointInfo> catalog{
      // The remote target (sim/target).
      {"target.scsi_rsp", kMatchSession | kMatchLun | kMatchNth, kActDrop | kActDelay,
       "target: SCSI response (with its Data-In) leaves for the initiator"},
      {"target.tmf_rsp", kMatchSession | kMatchFunction | kMatchNth, kActDrop | kActDelay | kActRespond,
       "target: TMF response (ABORT TASK, LU RESET, TARGET WARM RESET) leaves for the initiator"},
      {"target.logout_rsp", kMatchSession | kMatchNth, kActDrop | kActDelay, "target: Logout response leaves"},
      // The HBA firmware (hba_model).
      {"fw.cqe", kMatchSession | kMatchType | kMatchCq | kMatchNth, kActDelay,
       "firmware CQ writer: a CQE is about to be posted (cq: the completion queue, one per CPU)"},
      {"fw.cleanup", kMatchSession | kMatchNth, kActDelay,
       "firmware cleanup engine: time taken to clean one task (added to fw.cleanup_latency)"},
      // The kernel layer.
      {"mem.alloc", kMatchGfp | kMatchSite | kMatchNth, kActFail,
       "kmalloc/kzalloc; site = the allocating kernel function"},
      // libiscsi steps (drivers/scsi/libiscsi.c).
      {"libiscsi.exec_task_mgmt_fn.wait", kStep, kActDelay,
       "iscsi_exec_task_mgmt_fn: after the wait on ehwait returned, before del_timer_sync"},
      {"libiscsi.eh_session_reset.unlocked", kStep, kActDelay,
       "iscsi_eh_session_reset: eh_mutex and frwd_lock dropped, before iscsi_conn_failure(leadconn)"},
      // qedi steps (drivers/scsi/qedi); post-p11 names, same places in qedi_tmf_work when p11 is reverted.
      {"qedi.abort_work.victim_lookup", kStep, kActDelay,
       "qedi_abort_work: right after the victim lookup (after p10: back_lock dropped, reference held)"},
      {"qedi.abort_work.before_cleanup", kStep, kActDelay,
       "qedi_abort_work: work map listed, tmf_work_lock dropped, before the victim's cleanup WQE"},
      {"qedi.abort_work.cleanup_wait", kStep, kActDelay, "qedi_abort_work: qedi_wait_for_cleanup_request returned"},
      {"qedi.abort_work.ldel_exit", kStep, kActDelay,
       "qedi_abort_work: the cleanup wait failed, before tmf_work_lock at ldel_exit"},
      {"qedi.abort_work.send_tmf", kStep, kActDelay, "qedi_abort_work: victim cleaned up, before send_iscsi_tmf"},
      {"qedi.abort_work.put_task", kStep, kActDelay,
       "qedi_abort_work: ABORT TASK sent, before the put of the victim (after p10: the work's reference)"},
      {"qedi.io_thread.cqe", kMatchCq | kMatchNth, kActDelay,
       "qedi_percpu_io_thread: before it handles the next CQE of its list (cq: its CPU); the CQEs behind wait"},
      {"qedi.ep_disconnect.tmf_wait", kStep, kActDelay, "qedi_ep_disconnect: each poll step of the wait for TMF works"},
      {"qedi.process_cmd_cleanup_resp.work_found", kStep, kActDelay,
       "qedi_process_cmd_cleanup_resp: work map matched and unlinked (before p10 tmf_work_lock dropped here)"},
      {"qedi.tmf_resp_work.cleanup_all_io", kStep, kActDelay,
       "qedi_tmf_resp_work: before qedi_cleanup_all_io (before p13 after iscsi_block_session)"},
      {"qedi.tmf_resp_work.complete_rsp", kStep, kActDelay,
       "qedi_tmf_resp_work: bulk cleanup done, before the reset response goes to libiscsi"},
  };
  return catalog;
}

const PointInfo* find_point(std::string_view name) {
  for (const auto& p : point_catalog())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace qedisim
