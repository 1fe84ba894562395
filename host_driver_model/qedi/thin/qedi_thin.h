// FIRST CUT, kept only until the lead composes the full driver (qedi_host.h)
// into sim/testbench.cpp; delete this folder then.
// The qedi driver, thin first cut: probe (rings and registers), ep_connect
// (offload ramrod), login, qedi_task_xmit for SCSI commands, the MSI-X
// handlers and per-CPU io threads that drain the CQs. It reaches the HBA only
// through MMIO (IoMem), host memory and MSI-X. libiscsi is reduced to the
// per-session task pool (itts) and a requeue list; EH, TMFs and teardown come
// with the full driver model.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include <systemc>

#include "hba_model/host_memory.h"
#include "hba_model/hsi/qedi_hsi.h"
#include "host_driver_model/kernel/io_mem.h"
#include "host_driver_model/kernel/msix_controller.h"
#include "host_driver_model/qedi/qedi_tid.h"
#include "host_driver_model/scsi/scsi_cmnd.h"
#include "sim/scenario/params.h"

namespace qedisim::qedi {

struct QediParams {
  std::uint32_t tids = 4096;      // MAX_ISCSI_TASK_ENTRIES
  std::uint32_t cq_depth = 2048;  // QEDI_CQ_SIZE
  std::uint32_t sq_depth = 1024;  // MAX_OUTSTANDING_TASKS_PER_CON
  std::uint32_t num_queues = 2;   // = CPUs = MSI-X fast-path vectors
  std::uint32_t cmds_max = 128;   // libiscsi session->cmds_max
  static QediParams from(const ModelParams& p);
};

// struct qedi_cmd: the dd_data of one libiscsi task slot.
struct QediCmd {
  scsi::ScsiCmnd* sc = nullptr;  // task->sc; null for management tasks
  std::uint32_t itt = 0;         // libiscsi itt (the slot index)
  std::uint16_t task_id = kNoTid;
  std::uint8_t opcode = 0;
  bool on_active_list = false;   // qedi_conn->active_cmd_list
};

// struct qedi_endpoint
struct QediEndpoint {
  enum class State { idle, ofld_pending, offloaded, ofld_failed };
  std::uint16_t iscsi_cid = 0;
  std::uint64_t sq_dma = 0;
  std::uint32_t sq_size = 0;
  std::uint32_t fw_sq_prod_idx = 0;  // free running
  State state = State::idle;
  sc_core::sc_event tcp_ofld_wait;
};

// qedi_conn together with the bits of iscsi_session/iscsi_conn this cut needs.
struct QediConn {
  std::uint32_t session = 0;
  std::unique_ptr<QediEndpoint> ep;
  std::vector<QediCmd> cmds;        // session->cmds[]
  std::deque<std::uint32_t> cmdpool;  // free itts (libiscsi's kfifo)
  std::uint32_t active_cmd_count = 0;
  bool logged_in = false;
  bool login_failed = false;
  sc_core::sc_event login_wait;
  std::deque<scsi::ScsiCmnd*> requeue;  // SCSI_MLQUEUE_HOST_BUSY: retried when a task frees
};

struct QediCounters {
  std::uint64_t cmds_xmit = 0;
  std::uint64_t cmds_requeued = 0;
  std::uint64_t task_pool_full = 0;     // "FW task context pool is full"
  std::uint64_t tid_double_clear = 0;   // "FW task context, already cleared"
  std::uint64_t cqes_processed = 0;
  std::uint64_t cqe_no_session = 0;     // "Session no longer exists"
  std::uint64_t cqe_unknown_tid = 0;
  std::uint64_t cqe_unsolicited = 0;
  std::uint64_t cqe_dummy = 0;
  std::uint64_t cqe_cleanup = 0;
  std::uint64_t interrupts = 0;
  std::uint64_t events = 0;
};

class QediCtx {
 public:
  QediCtx(const QediParams& params, hba::HostMemory& mem, kernel::IoMem& bar, kernel::MsixController& irq);

  void set_scsi_done(scsi::ScsiDone* done) { scsi_done_ = done; }

  // Process context (call from an SC_THREAD; these block).
  void qedi_probe();
  QediConn& iscsi_session_create(std::uint32_t session);
  bool qedi_ep_connect(QediConn& conn);
  bool iscsi_login(QediConn& conn);

  // Queue context: libiscsi iscsi_queuecommand -> qedi_task_xmit.
  void iscsi_queuecommand(scsi::ScsiCmnd* sc);

  // Probes.
  const QediCounters& counters() const { return counters_; }
  std::uint32_t tids_in_use() const { return tids_.in_use(); }
  const TidBitmap& tid_bitmap() const { return tids_; }
  // No task on any active list, nothing requeued, no CQE waiting for an io thread.
  bool idle() const;
  const sc_core::sc_event& activity() const { return activity_; }

 private:
  struct QediWork {  // struct qedi_work
    hsi::IscsiCqe cqe;
    unsigned que_idx;
  };
  struct QediPercpu {  // struct qedi_percpu_s
    std::deque<QediWork> work_list;
    sc_core::sc_event wake;
  };
  struct ItMap {  // qedi->itt_map[tid]
    std::uint32_t itt = 0;
    QediCmd* cmd = nullptr;
  };

  // qedi_main.c
  void qedi_msix_handler(unsigned vector);
  void qedi_process_completions(unsigned vector);
  void qedi_queue_cqe(const hsi::IscsiCqe& cqe, unsigned que_idx);
  void qedi_percpu_io_thread(unsigned cpu);
  void qedi_slowpath_handler(unsigned vector);
  void qedi_iscsi_event_cb(const hsi::EventRingEntry& eqe);
  void post_ramrod(const hsi::SpqEntry& e);

  // qedi_fw.c
  bool qedi_task_xmit(QediConn& conn, scsi::ScsiCmnd* sc);
  bool qedi_send_iscsi_login(QediConn& conn);
  void qedi_fp_process_cqes(const QediWork& work);
  void qedi_scsi_completion(QediConn& conn, QediCmd& cmd, const hsi::IscsiCqe& cqe);
  void qedi_process_login_resp(QediConn& conn, QediCmd& cmd, const hsi::IscsiCqe& cqe);
  QediCmd* qedi_get_cmd_from_tid(std::uint16_t tid);
  void qedi_update_itt_map(std::uint16_t tid, std::uint32_t itt, QediCmd* cmd);
  std::uint32_t qedi_get_wqe_idx(QediEndpoint& ep);
  void qedi_ring_doorbell(QediEndpoint& ep);
  void write_task_context(std::uint16_t tid, const hsi::IscsiTaskContext& ctx);
  void post_wqe(QediEndpoint& ep, std::uint16_t tid, std::uint8_t wqe_type);
  // Task slot and tid back to their pools (libiscsi iscsi_free_task ->
  // qedi_cleanup_task), then requeued commands get their chance.
  void release_task(QediConn& conn, QediCmd& cmd);
  bool alloc_task(QediConn& conn, QediCmd*& cmd, std::uint16_t& tid);
  void run_requeue(QediConn& conn);

  QediParams params_;
  hba::HostMemory* mem_;
  kernel::IoMem* bar_;
  kernel::MsixController* irq_;
  scsi::ScsiDone* scsi_done_ = nullptr;

  TidBitmap tids_;
  std::vector<ItMap> itt_map_;
  std::vector<std::unique_ptr<QediPercpu>> percpu_;
  std::map<std::uint32_t, std::unique_ptr<QediConn>> sessions_;
  std::map<std::uint16_t, QediEndpoint*> ep_tbl_;     // qedi->ep_tbl[cid]
  std::map<std::uint16_t, QediConn*> conn_cid_tbl_;  // qedi->conn_cid_tbl[cid]
  std::uint16_t next_cid_ = 0;

  // Host memory the driver shares with the card.
  std::uint64_t sb_dma_ = 0;
  std::uint64_t task_ctx_dma_ = 0;
  std::vector<std::uint64_t> cq_dma_;
  std::vector<std::uint32_t> cq_cons_idx_;  // que->cq_cons_idx, free running
  std::uint64_t spq_dma_ = 0;
  std::uint32_t spq_size_ = 64;
  std::uint32_t spq_prod_ = 0;
  std::uint64_t eq_dma_ = 0;
  std::uint32_t eq_size_ = 64;
  std::uint32_t eq_cons_ = 0;

  sc_core::sc_event activity_;
  QediCounters counters_;
};

}  // namespace qedisim::qedi
