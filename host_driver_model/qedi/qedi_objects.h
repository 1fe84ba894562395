// qedi driver objects (drivers/scsi/qedi/qedi.h, qedi_iscsi.h): the
// qedi_cmd in each task slot, qedi_conn in each conn, the abort work maps,
// the endpoint and the per-HBA context.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "host_driver_model/kernel/lock.h"
#include "host_driver_model/kernel/slab.h"
#include "host_driver_model/kernel/wait.h"
#include "host_driver_model/kernel/workqueue.h"

namespace qedisim::drv {

struct IscsiTask;
struct IscsiConn;
struct ScsiCmnd;
struct QediEndpoint;

constexpr std::uint16_t kNoTid = std::numeric_limits<std::uint16_t>::max();  // U16_MAX (p09)

// enum qedi_cmd state
enum class CleanupState { NONE, CLEANUP_WAIT, CLEANUP_WAIT_FAILED, CLEANUP_RECV, RESPONSE_RECEIVED };

// qedi_cmd->type (qedi_iscsi.h)
enum : std::uint8_t { TYPEIO = 1, TYPERESET = 2 };

// enum qedi_ep_state (qedi_iscsi.h), the states the model uses.
enum class EpState { IDLE, OFLDCONN_START, OFLDCONN_COMPL, OFLDCONN_FAILED, DISCONN_START, DISCONN_COMPL };

// The TMF response header qedi_process_tmf_resp saves for qedi_tmf_resp_work
// (qedi_cmd->tmf_resp_buf = kzalloc(sizeof(struct iscsi_tm_rsp), GFP_ATOMIC);
// a 48-byte BHS, so kmalloc-64). The work and the inline path kfree it.
struct QediTmfRspBuf {
  static constexpr const char* kTypeName = "iscsi_tm_rsp";
  static constexpr const char* kSizeClass = "kmalloc-64";
  std::uint8_t opcode = 0;
  std::uint32_t itt = 0;
  std::uint8_t response = 0;
};

// One of qedi_conn->gen_pdu's buffers for login, text and logout PDUs
// (req_buf, resp_buf): ISCSI_DEF_MAX_RECV_SEG_LEN bytes of coherent DMA
// memory each, from qedi_conn_alloc_login_resources (qedi_conn_create) to
// qedi_conn_free_login_resources (qedi_conn_destroy). Tracked like a slab
// object, although the kernel's kmemleak does not scan coherent DMA memory.
struct QediGenPduBuf {
  static constexpr const char* kTypeName = "qedi_gen_pdu_buf";
  static constexpr const char* kSizeClass = "dma_alloc_coherent 8192";
};

// struct qedi_work_map: one per abort, on qedi_conn->tmf_work_list.
struct QediWorkMap {
  static constexpr const char* kTypeName = "qedi_work_map";
  static constexpr const char* kSizeClass = "kmalloc-64";  // list_head, 2 pointers, 2 ints, a pointer: 48 bytes
  kern::KPtr<IscsiTask> qedi_cmd;                          // the ABORT mtask (its qedi_cmd)
  std::uint16_t rtid = 0;                                  // victim tid
  kern::KPtr<IscsiTask> ctask;                             // p10: the referenced victim
  bool listed = false;                                     // on tmf_work_list
};

// struct qedi_cmd: task->dd_data, never kfree'd ("freed" = slot reusable).
struct QediCmd {
  std::uint16_t task_id = kNoTid;
  CleanupState state = CleanupState::NONE;
  kern::KPtr<QediWorkMap> list_tmf_work;
  bool io_cmd_in_list = false;  // on qedi_conn->active_cmd_list
  kern::KPtr<ScsiCmnd> scsi_cmd;
  kern::Work tmf_work{"qedi_tmf_work"};  // unused: the model queues Qedi-owned work items (qedi.h)
  kern::Work cqe_work{"qedi_cqe_work"};  // unused: CQE work items live on the per-CPU lists
  std::uint8_t type = 0;                 // TYPEIO / TYPERESET
  // ---- added with the full driver (qedi/qedi.h) ----
  kern::KPtr<IscsiTask> task;  // qedi_cmd->task: set at xmit (and in qedi_iscsi_abort_work)
  kern::KPtr<IscsiConn> conn;  // qedi_cmd->conn (the iscsi_conn whose dd_data is the qedi_conn)
  // qedi_process_tmf_resp -> qedi_tmf_resp_work. Never cleared: it keeps
  // pointing at the last response buffer, freed or not.
  kern::KPtr<QediTmfRspBuf> tmf_resp_buf;
};

// struct qedi_conn: conn->dd_data.
struct QediConn {
  kern::KPtr<QediEndpoint> ep;
  std::uint32_t iscsi_conn_id = 0;  // cid
  std::vector<kern::KPtr<IscsiTask>> active_cmd_list;
  std::uint32_t active_cmd_count = 0;
  kern::SpinLock list_lock{"list_lock"};
  std::vector<kern::KPtr<QediWorkMap>> tmf_work_list;
  kern::SpinLock tmf_work_lock{"tmf_work_lock"};
  std::uint32_t cmd_cleanup_req = 0;
  std::uint32_t cmd_cleanup_cmpl = 0;
  kern::WaitQueue wait_queue{"qedi_conn->wait_queue"};
  bool fw_cleanup_flag = false;         // QEDI_CONN_FW_CLEANUP (before p16)
  std::uint32_t fw_cleanup_works = 0;   // p16
  bool ep_disconnect_starting = false;  // p16
  kern::Work offload_work{"qedi_offload_work"};
  // ---- added with the full driver (qedi/qedi.h) ----
  kern::KPtr<IscsiConn> cls_conn;     // qedi_conn->cls_conn->dd_data: the conn this is embedded in
  kern::KPtr<QediEndpoint> iscsi_ep;  // qedi_conn->iscsi_ep (qedi_clear_session_ctx)
  int abrt_conn = 0;
  kern::KPtr<QediGenPduBuf> gen_pdu_req_buf;   // qedi_conn->gen_pdu.req_buf
  kern::KPtr<QediGenPduBuf> gen_pdu_resp_buf;  // qedi_conn->gen_pdu.resp_buf
};

// struct qedi_endpoint
struct QediEndpoint {
  static constexpr const char* kTypeName = "qedi_endpoint";
  static constexpr const char* kSizeClass = "kzalloc(iscsi_endpoint + qedi_endpoint)";  // iscsi_create_endpoint
  std::uint32_t iscsi_cid = 0;
  kern::KPtr<IscsiConn> conn;
  bool offloaded = false;
  std::uint64_t sq_base = 0;  // ep->sq in host memory (0 = freed)
  std::uint32_t fw_sq_prod_idx = 0;
  kern::WaitQueue tcp_ofld_wait{"tcp_ofld_wait"};
  int state = 0;  // unused: see ep_state
  // ---- added with the full driver (qedi/qedi.h) ----
  EpState ep_state = EpState::IDLE;
  std::uint32_t sq_size = 0;        // entries
  std::uint32_t sq_prod_idx = 0;    // slot index, wraps at sq_size (qedi_get_wqe_idx)
  std::uint32_t portal = 0;         // which remote target (scenario session)
  std::uint8_t fw_return_code = 0;  // of the offload completion event
};

// kmemleak: the pointer fields of each qedi object (kern::RefVisitor).
template <typename V>
void scan_refs(const QediWorkMap& w, V& v) {
  v(w.qedi_cmd);
  v(w.ctask);
}
template <typename V>
void scan_refs(const QediCmd& c, V& v) {
  v(c.list_tmf_work);
  v(c.scsi_cmd);
  v(c.task);
  v(c.conn);
  v(c.tmf_resp_buf);
}
template <typename V>
void scan_refs(const QediConn& c, V& v) {
  v(c.ep);
  v(c.active_cmd_list);
  v(c.tmf_work_list);
  v(c.cls_conn);
  v(c.iscsi_ep);
  v(c.gen_pdu_req_buf);
  v(c.gen_pdu_resp_buf);
}
template <typename V>
void scan_refs(const QediEndpoint& ep, V& v) {
  v(ep.conn);
}

}  // namespace qedisim::drv
