// The qedi driver (drivers/scsi/qedi): struct qedi_ctx and the functions of
// qedi_main.c, qedi_fw.c and qedi_iscsi.c that the TMF series touches, on
// the kernel layer. It reaches the HBA only through MMIO (IoMem), host
// memory and MSI-X, and libiscsi only through libiscsi.h; libiscsi reaches
// it through IscsiTransport. Both versions of every function a patch changed
// sit side by side, chosen by fixed(Patch::pNN) at the changed line.
//
// Contexts: the MSI-X handler per vector ("irq/vN", atomic), one io thread
// per CPU ("qedi_thread/N"), the HBA-wide ordered TMF workqueue
// ("tmf_wq/host0"), and whatever context calls the transport ops (queue,
// EH, iscsid, timer).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <systemc>
#include <vector>

#include "common/activity.h"
#include "hba_model/hba_params.h"
#include "hba_model/host_memory.h"
#include "hba_model/hsi/qedi_hsi.h"
#include "host_driver_model/driver_params.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/io_mem.h"
#include "host_driver_model/kernel/kmemleak.h"
#include "host_driver_model/kernel/kthread.h"
#include "host_driver_model/kernel/msix_controller.h"
#include "host_driver_model/kernel/slab.h"
#include "host_driver_model/kernel/wait.h"
#include "host_driver_model/kernel/workqueue.h"
#include "host_driver_model/libiscsi/iscsi_objects.h"
#include "host_driver_model/libiscsi/libiscsi.h"
#include "host_driver_model/libiscsi/transport.h"
#include "host_driver_model/probes.h"
#include "host_driver_model/qedi/qedi_tid.h"

namespace qedisim::drv {

struct QediParams {
  std::uint32_t tids = 4096;                          // MAX_ISCSI_TASK_ENTRIES
  std::uint32_t cq_depth = 2048;                      // QEDI_CQ_SIZE
  std::uint32_t sq_depth = 1024;                      // MAX_OUTSTANDING_TASKS_PER_CON
  std::uint32_t num_queues = 2;                       // CPUs = fast-path vectors = io threads
  Duration cleanup_wait = Duration::from_s(5);        // qedi_cleanup_all_io wait 1
  Duration drain_wait = Duration::from_s(5);          // wait 2
  Duration abort_cleanup_wait = Duration::from_s(5);  // qedi_wait_for_cleanup_request
  Duration ep_disconnect_poll = Duration::from_s(1);
  std::uint32_t ep_disconnect_max_polls = 10;
  Duration destroy_conn_wait = Duration::from_s(60);  // 60 * HZ + DEF_MAX_RT_TIME (unverified)
  Duration ramrod_wait = Duration::from_s(60);        // qed EBLOCK ramrods (clear_sq, drain)
  // qedi's waits, and the resources qed reports for the device (tids, queues).
  static QediParams from(const DriverParams& p, const hba::HbaParams& dev);
};

struct QediCounters {
  std::uint64_t task_pool_full = 0;    // "FW task context pool is full"
  std::uint64_t tid_double_clear = 0;  // "FW task context, already cleared"
  std::uint64_t cqes_processed = 0;
  std::uint64_t cqe_no_session = 0;  // "Session no longer exists"
  std::uint64_t cqe_unbound = 0;     // solicited CQE whose tid has no qedi_cmd (qedi_queue_cqe)
  std::uint64_t cleanup_cqes = 0;
  std::uint64_t cleanup_untracked = 0;  // "Delayed or untracked cleanup response"
  std::uint64_t cleanup_task_null = 0;  // bulk branch lookup miss (before p17)
  std::uint64_t abort_works = 0;
  std::uint64_t reset_resp_works = 0;
  std::uint64_t alloc_failures = 0;  // "Memory allocation failed"
  std::uint64_t cleanup_waits_timed_out = 0;
  std::uint64_t drains = 0;
  std::uint64_t interrupts = 0;
  std::uint64_t events = 0;
  std::uint64_t tcp_errors = 0;
};

class Qedi : public sc_core::sc_module, public IscsiTransport {
 public:
  Qedi(sc_core::sc_module_name name, const QediParams& params, hba::HostMemory& mem, kern::IoMem& bar,
       kern::MsixController& irq);
  ~Qedi() override;

  // ---- struct iscsi_transport qedi_iscsi_transport ----
  int xmit_task(kern::KPtr<IscsiTask> task) override;                      // qedi_task_xmit
  std::uint32_t session_cmds_max(std::uint32_t requested) const override;  // qedi_session_create
  void cleanup_task(kern::KPtr<IscsiTask> task) override;                  // qedi_cleanup_task
  kern::KPtr<QediEndpoint> ep_connect(std::uint32_t session_id) override;  // qedi_ep_connect
  void ep_disconnect(kern::KPtr<QediEndpoint> ep) override;                // qedi_ep_disconnect
  kern::KPtr<IscsiConn> create_conn(kern::KPtr<IscsiSession> session,
                                    std::uint32_t conn_idx) override;               // qedi_conn_create
  int bind_conn(kern::KPtr<IscsiConn> conn, kern::KPtr<QediEndpoint> ep) override;  // qedi_conn_bind
  int start_conn(kern::KPtr<IscsiConn> conn) override;                              // qedi_conn_start
  void destroy_conn(kern::KPtr<IscsiConn> conn) override;                           // qedi_conn_destroy
  void destroy_session(kern::KPtr<IscsiSession> session) override;                  // qedi_session_destroy

  // hba.remove: qedi_shutdown -> __qedi_remove (QEDI_MODE_SHUTDOWN), which
  // runs qedi_clear_session_ctx for every session. Call from a context
  // that may sleep (an action thread standing in for the PCI core).
  void qedi_shutdown();

  // ---- probes (read-only) ----
  const QediCounters& counters() const { return counters_; }
  std::uint32_t tids_in_use() const { return tids_.in_use(); }
  const qedi::TidBitmap& tid_bitmap() const { return tids_; }
  bool probed() const { return probed_; }
  // No CQE queued for an io thread, no TMF work queued or running.
  bool idle() const;
  // Notified after each CQE batch, slow-path event, TMF work and ep_disconnect, once asked for (common/activity.h).
  const sc_core::sc_event& activity() const { return activity_.event(); }
  kern::Workqueue& tmf_thread() { return *tmf_thread_; }

 private:
  friend struct QediTestAccess;  // tests/qedi: runs single kernel functions
  // struct qedi_work: one CQE queued for an io thread. Solicited CQEs carry
  // the task bound in qedi_queue_cqe (qedi_cmd->cqe_work).
  struct QediWork {
    hsi::IscsiCqe cqe;
    unsigned que_idx = 0;
    kern::KPtr<IscsiTask> task;
  };
  struct QediPercpu {  // struct qedi_percpu_s
    std::deque<QediWork> work_list;
    kern::WaitQueue wq{"qedi_percpu_io_thread"};
    bool running = false;
  };
  // qedi->itt_map[tid]: the proto itt and the qedi_cmd (as its task slot).
  struct ItMap {
    std::uint32_t itt = 0;
    kern::KPtr<IscsiTask> p_cmd;
  };
  // qedi_cmd->tmf_work as queued: one item per queue_work, owned here so a
  // task slot reused under a queued work cannot corrupt the workqueue.
  struct TmfWork {
    kern::Work work{"qedi_tmf_work"};
    kern::KPtr<IscsiTask> mtask;
    kern::KPtr<IscsiConn> conn;
    TmfWorkKind kind = TmfWorkKind::abort;
    bool busy = false;
  };

  // ---- qedi_main.c ----
  void qedi_probe_thread();
  void qedi_probe();
  void qedi_msix_handler(unsigned vector);
  void qedi_process_completions(unsigned vector);
  void qedi_queue_cqe(const hsi::IscsiCqe& cqe, unsigned que_idx);
  void qedi_percpu_io_thread(unsigned cpu);
  void qedi_slowpath_handler(unsigned vector);
  void qedi_iscsi_event_cb(const hsi::EventRingEntry& eqe);
  void qedi_process_tcp_error(kern::KPtr<QediEndpoint> ep);
  int qedi_get_task_idx();
  void qedi_clear_task_idx(std::uint32_t tid);
  void qedi_update_itt_map(std::uint32_t tid, std::uint32_t proto_itt, kern::KPtr<IscsiTask> task);
  std::uint32_t qedi_get_proto_itt(std::uint32_t tid) const;
  kern::KPtr<IscsiTask> qedi_get_cmd_from_tid(std::uint32_t tid);
  std::uint32_t qed_spq_post(hsi::SpqEntry e);
  bool qed_spq_wait(std::uint32_t echo, Duration timeout);
  void qed_drain();

  // ---- qedi_fw.c ----
  void qedi_fp_process_cqes(const QediWork& work);
  void qedi_mtask_completion(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_scsi_completion(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_process_login_resp(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_process_logout_resp(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_process_text_resp(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_process_nopin_mesg(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_process_nopin_local_cmpl(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_process_unsol_mesg(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiConn> conn);  // async / reject
  void qedi_process_tmf_resp(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiConn> conn);
  void qedi_tmf_resp_work(TmfWork& w);
  void qedi_process_cmd_cleanup_resp(const hsi::IscsiCqe& cqe, kern::KPtr<IscsiConn> conn);
  int qedi_iscsi_send_ioreq(kern::KPtr<IscsiTask> task);
  int qedi_send_iscsi_login(QediConn& qc, kern::KPtr<IscsiTask> task);
  int qedi_send_iscsi_logout(QediConn& qc, kern::KPtr<IscsiTask> task);
  int qedi_send_iscsi_text(QediConn& qc, kern::KPtr<IscsiTask> task);
  int qedi_send_iscsi_nopout(QediConn& qc, kern::KPtr<IscsiTask> task);
  // One management PDU into the SQ: the shared body of the qedi_send_iscsi_* functions.
  int send_mtask(QediConn& qc, kern::KPtr<IscsiTask> task, std::uint8_t wqe_type, PduKind kind, bool active_list,
                 std::uint8_t flags);
  int qedi_cleanup_all_io(QediConn& qc, kern::KPtr<IscsiTask> task, bool in_recovery);
  void qedi_clearsq(QediConn& qc, kern::KPtr<IscsiTask> task);
  int qedi_wait_for_cleanup_request(QediConn& qc, kern::KPtr<IscsiTask> task, kern::KPtr<IscsiTask> mtask,
                                    kern::KPtr<QediWorkMap> list_work);
  void qedi_abort_work(TmfWork& w);  // qedi_tmf_work before p11
  int send_iscsi_tmf(QediConn& qc, kern::KPtr<IscsiTask> mtask, kern::KPtr<IscsiTask> ctask);
  int qedi_send_iscsi_tmf(QediConn& qc, kern::KPtr<IscsiTask> mtask);  // qedi_iscsi_abort_work before p11
  int qedi_iscsi_cleanup_task(kern::KPtr<IscsiTask> task, bool mark_cmd_node_deleted);
  std::uint32_t qedi_get_wqe_idx(QediConn& qc);
  void qedi_ring_doorbell(QediConn& qc);
  void write_task_context(std::uint32_t tid, const hsi::IscsiTaskContext& ctx);
  void write_wqe(QediConn& qc, std::uint32_t sq_idx, std::uint16_t tid, std::uint8_t wqe_type);
  void active_list_add(QediConn& qc, kern::KPtr<IscsiTask> task);
  void active_list_del(QediConn& qc, kern::KPtr<IscsiTask> task);
  void active_list_remove(QediConn& qc, kern::KPtr<IscsiTask> task, QediCmd& cmd);
  TmfWork& alloc_tmf_work(kern::KPtr<IscsiTask> mtask, kern::KPtr<IscsiConn> conn, TmfWorkKind kind);

  // ---- qedi_iscsi.c ----
  int qedi_mtask_xmit(kern::KPtr<IscsiConn> conn, kern::KPtr<IscsiTask> task);
  int qedi_iscsi_send_generic_request(kern::KPtr<IscsiTask> task);
  void qedi_mark_device_missing(kern::KPtr<IscsiSession> session);
  void qedi_mark_device_available(kern::KPtr<IscsiSession> session);
  void qedi_cleanup_active_cmd_list(QediConn& qc);
  void qedi_clear_session_ctx(kern::KPtr<IscsiSession> session);
  int qedi_conn_alloc_login_resources(QediConn& qc, std::uint32_t session_id);
  void qedi_conn_free_login_resources(QediConn& qc);
  std::uint64_t qedi_alloc_sq();
  void qedi_free_sq(std::uint64_t sq);

  static std::uint32_t session_of(kern::KPtr<IscsiConn> conn);

  QediParams params_;
  hba::HostMemory* mem_;
  kern::IoMem* bar_;
  kern::MsixController* irq_;

  qedi::TidBitmap tids_;                 // qedi->task_idx_map
  std::vector<ItMap> itt_map_;           // qedi->itt_map
  std::vector<std::uint64_t> tid_flow_;  // --trace: the doorbell -> CQE arrow of each tid's last xmit
  std::vector<std::unique_ptr<QediPercpu>> percpu_;
  std::vector<std::unique_ptr<kern::Context>> irq_ctx_;  // one per vector, atomic
  std::vector<std::unique_ptr<kern::KThread>> io_threads_;
  std::unique_ptr<kern::KThread> probe_thread_;
  std::unique_ptr<kern::Workqueue> tmf_thread_;  // qedi->tmf_thread, "tmf_wq/host0"
  std::deque<std::unique_ptr<TmfWork>> tmf_works_;
  std::map<std::uint32_t, kern::KPtr<QediEndpoint>> ep_tbl_;     // qedi->ep_tbl[cid]
  std::map<std::uint32_t, kern::KPtr<IscsiConn>> conn_cid_tbl_;  // qedi->cid_que.conn_cid_tbl[cid]
  std::set<std::uint32_t> cids_in_use_;                          // qed acquire_conn / release_conn
  std::vector<std::uint64_t> free_sqs_;                          // qedi_free_sq: SQ rings to reuse
  kern::Slab<QediEndpoint> eps_;                                 // iscsi_create_endpoint / iscsi_destroy_endpoint
  kern::Slab<QediWorkMap> work_maps_;                            // kzalloc(sizeof(struct qedi_work_map))
  kern::Slab<QediTmfRspBuf> tmf_resp_bufs_;                      // qedi_cmd->tmf_resp_buf
  kern::Slab<QediGenPduBuf> gen_pdu_bufs_;                       // qedi_conn->gen_pdu.req_buf / resp_buf

  // qedi->flags
  bool in_shutdown_ = false;  // QEDI_IN_SHUTDOWN
  bool in_recovery_ = false;  // QEDI_IN_RECOVERY (never set: no HBA recovery in the model)
  bool block_io_ = false;     // QEDI_BLOCK_IO (p14)
  bool probed_ = false;
  kern::WaitQueue probe_wait_{"qedi_probe"};

  // Host memory shared with the card.
  std::uint64_t sb_dma_ = 0;
  std::uint64_t task_ctx_dma_ = 0;
  std::vector<std::uint64_t> cq_dma_;
  std::vector<std::uint32_t> cq_cons_idx_;
  std::uint64_t spq_dma_ = 0;
  std::uint32_t spq_size_ = 64;
  std::uint32_t spq_prod_ = 0;
  std::uint64_t eq_dma_ = 0;
  std::uint32_t eq_size_ = 64;
  std::uint32_t eq_cons_ = 0;
  std::uint32_t next_echo_ = 0x1000;
  std::set<std::uint32_t> spq_done_;  // echoes whose completion event came
  kern::WaitQueue spq_wait_{"qed_spq_wait"};

  Activity activity_;
  QediCounters counters_;
  // kmemleak roots: qedi->ep_tbl, the cid table, itt_map, the per-CPU CQE
  // lists and the TMF works queued or running (declared last: goes first).
  kern::KmemleakRoot leak_roots_;
};

}  // namespace qedisim::drv
