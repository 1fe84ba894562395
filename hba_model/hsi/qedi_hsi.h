// The host/firmware interface of the modelled qedi HBA: what the driver and
// the firmware agree on in host memory (WQE, task context, CQE, status block,
// slow-path queue entries). Names follow the qed HSI headers
// (include/linux/qed/iscsi_common.h, common_hsi.h) and
// include/scsi/iscsi_proto.h. Plain structs copied by DMA; no SystemC here.
#pragma once

#include <cstdint>

namespace qedisim::hsi {

// iSCSI PDU opcodes (include/scsi/iscsi_proto.h).
enum IscsiOpcode : std::uint8_t {
  ISCSI_OP_NOOP_OUT = 0x00,
  ISCSI_OP_SCSI_CMD = 0x01,
  ISCSI_OP_SCSI_TMFUNC = 0x02,
  ISCSI_OP_LOGIN = 0x03,
  ISCSI_OP_TEXT = 0x04,
  ISCSI_OP_LOGOUT = 0x06,
  ISCSI_OP_NOOP_IN = 0x20,
  ISCSI_OP_SCSI_CMD_RSP = 0x21,
  ISCSI_OP_SCSI_TMFUNC_RSP = 0x22,
  ISCSI_OP_LOGIN_RSP = 0x23,
  ISCSI_OP_TEXT_RSP = 0x24,
  ISCSI_OP_SCSI_DATA_IN = 0x25,
  ISCSI_OP_LOGOUT_RSP = 0x26,
  ISCSI_OP_ASYNC_EVENT = 0x32,
  ISCSI_OP_REJECT = 0x3f,
};

// TMF function codes (ISCSI_TM_FUNC_*).
enum IscsiTmFunc : std::uint8_t {
  ISCSI_TM_FUNC_ABORT_TASK = 1,
  ISCSI_TM_FUNC_LOGICAL_UNIT_RESET = 5,
  ISCSI_TM_FUNC_TARGET_WARM_RESET = 6,
  ISCSI_TM_FUNC_TARGET_COLD_RESET = 7,
};

// TMF response codes (ISCSI_TMF_RSP_*).
enum IscsiTmfRsp : std::uint8_t {
  ISCSI_TMF_RSP_COMPLETE = 0,
  ISCSI_TMF_RSP_NO_TASK = 1,
  ISCSI_TMF_RSP_NO_LUN = 2,
  ISCSI_TMF_RSP_NOT_SUPPORTED = 5,
  ISCSI_TMF_RSP_REJECTED = 255,
};

constexpr std::uint32_t ISCSI_RESERVED_TAG = 0xffffffffu;
constexpr std::uint8_t SAM_STAT_GOOD = 0x00;
constexpr std::uint8_t SAM_STAT_CHECK_CONDITION = 0x02;

// PDU itt = qedi_set_itt(tid, itt) (drivers/scsi/qedi/qedi_iscsi.h):
// the firmware finds the task of a response by the low 16 bits.
constexpr std::uint32_t qedi_set_itt(std::uint16_t tid, std::uint32_t itt) {
  return static_cast<std::uint32_t>(tid) | (itt << 16);
}
constexpr std::uint16_t qedi_get_itt_tid(std::uint32_t pdu_itt) {
  return static_cast<std::uint16_t>(pdu_itt & 0xffffu);
}
constexpr std::uint32_t qedi_get_itt(std::uint32_t pdu_itt) { return pdu_itt >> 16; }

// enum iscsi_wqe_type (iscsi_common.h).
enum IscsiWqeType : std::uint8_t {
  ISCSI_WQE_TYPE_NORMAL = 0,        // SCSI command
  ISCSI_WQE_TYPE_TASK_CLEANUP = 1,  // task_id = the tid to clean (itid)
  ISCSI_WQE_TYPE_MIDDLE_PATH = 2,   // TMF, logout, NOP-Out, text
  ISCSI_WQE_TYPE_LOGIN = 3,
};

// struct iscsi_wqe: one SQ slot. Everything else the firmware needs for a
// task is in the task context of task_id.
struct IscsiWqe {
  std::uint16_t task_id = 0;
  std::uint8_t wqe_type = 0;
  std::uint8_t reserved0 = 0;
  std::uint32_t reserved1 = 0;
};
static_assert(sizeof(IscsiWqe) == 8);

// Task context flags.
enum : std::uint8_t {
  TASK_FLAG_READ = 1u << 0,
  TASK_FLAG_WRITE = 1u << 1,
  // ystorm_st_context.state.local_comp: completed by the firmware itself
  // (NOP-Out answering a target NOP-In, qedi_send_iscsi_nopout).
  TASK_FLAG_LOCAL_COMP = 1u << 2,
};

// The part of e_iscsi_task_context the model uses; one per tid in the task
// context array whose base the driver programs (qedi->tasks). The driver zeroes
// and fills it before posting the WQE (qedi_task_xmit / init_initiator_*).
struct IscsiTaskContext {
  std::uint8_t opcode = 0;         // PDU opcode
  std::uint8_t flags = 0;          // TASK_FLAG_*
  std::uint8_t tmf_function = 0;   // IscsiTmFunc for ISCSI_OP_SCSI_TMFUNC
  std::uint8_t cq_rss_number = 0;  // CQ that completes this task
  std::uint32_t itt = 0;           // PDU itt
  std::uint32_t rtt = 0;           // TMF referenced task tag (ABORT TASK: victim itt)
  std::uint32_t data_length = 0;   // bytes
  std::uint64_t lun = 0;
  std::uint64_t sgl_addr = 0;  // host buffer; payload bytes are not moved
  std::uint32_t ttt = 0;       // NOP-Out answering a NOP-In
  std::uint32_t reserved0 = 0;
  std::uint64_t reserved1 = 0;
};
static_assert(sizeof(IscsiTaskContext) == 48);

// enum iscsi_cqes_type.
enum IscsiCqeType : std::uint8_t {
  ISCSI_CQE_TYPE_SOLICITED = 1,
  ISCSI_CQE_TYPE_UNSOLICITED = 2,
  ISCSI_CQE_TYPE_SOLICITED_WITH_SENSE = 3,
  ISCSI_CQE_TYPE_TASK_CLEANUP = 4,
  ISCSI_CQE_TYPE_DUMMY = 5,
};

enum : std::uint8_t { CQE_FLAG_LOCAL_COMP = 1u << 0 };

// union iscsi_cqe, reduced: the response header fields the driver reads.
struct IscsiCqe {
  std::uint16_t conn_id = 0;  // cid
  std::uint8_t cqe_type = 0;  // IscsiCqeType
  std::uint8_t flags = 0;     // CQE_FLAG_*
  std::uint16_t itid = 0;     // task id (TASK_CLEANUP: the cleaned tid)
  std::uint8_t opcode = 0;    // response PDU opcode
  std::uint8_t response = 0;  // iSCSI response / TMF response code
  std::uint32_t itt = 0;      // response PDU itt
  std::uint8_t scsi_status = 0;
  std::uint8_t reserved0[3] = {};
  std::uint32_t residual = 0;
  std::uint32_t ttt = 0;
  std::uint64_t reserved1 = 0;
};
static_assert(sizeof(IscsiCqe) == 32);

// One status block per MSI-X vector (struct status_block_e4, reduced):
// pi_array[QEDI_PROTO_CQ_PROD_IDX] is the CQ producer index (for the
// slow-path vector: the event ring producer); sb_index counts updates and is
// what the driver acks to the IGU.
struct StatusBlock {
  std::uint32_t cq_prod = 0;  // free running
  std::uint32_t sb_index = 0;
};
static_assert(sizeof(StatusBlock) == 8);

// Slow-path queue (qed SPQ) commands: iscsi_ramrod_cmd_id, plus the MCP drain.
enum IscsiRamrodCmdId : std::uint8_t {
  ISCSI_RAMROD_CMD_ID_OFFLOAD_CONN = 3,      // qedi_ep_connect -> qed offload_conn
  ISCSI_RAMROD_CMD_ID_TERMINATION_CONN = 5,  // qedi_ep_disconnect -> destroy_conn
  ISCSI_RAMROD_CMD_ID_CLEAR_SQ = 6,          // qedi_clearsq -> clear_sq
  QED_MCP_CMD_DRAIN = 0x80,                  // qed_ops->common->drain (an MCP command on the card)
};

enum : std::uint8_t { SPQ_FLAG_ABORTIVE = 1u << 0 };  // destroy_conn: RST instead of FIN

struct SpqEntry {
  std::uint8_t cmd_id = 0;  // IscsiRamrodCmdId
  std::uint8_t flags = 0;   // SPQ_FLAG_*
  std::uint16_t cid = 0;
  std::uint32_t echo = 0;           // returned in the event ring entry
  std::uint64_t sq_base = 0;        // OFFLOAD_CONN: host address of the SQ
  std::uint32_t sq_size = 0;        // OFFLOAD_CONN: entries
  std::uint32_t target_portal = 0;  // OFFLOAD_CONN: which remote target (session index)
  std::uint64_t reserved = 0;
};
static_assert(sizeof(SpqEntry) == 32);

// Event ring entry opcodes (enum iscsi_eqe_opcode).
enum IscsiEqeOpcode : std::uint8_t {
  ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE = 7,
  ISCSI_EVENT_TYPE_ASYN_TERMINATE_DONE = 8,
  ISCSI_EVENT_TYPE_CLEAR_SQ = 4,
  // The offloaded TCP connection failed (link down, RST, retransmit limit):
  // qedi_iscsi_event_cb -> qedi_process_tcp_error -> iscsi_conn_failure.
  ISCSI_EVENT_TYPE_TCP_CONN_ERROR = 18,
  QED_EVENT_DRAIN_DONE = 0x80,
};

enum : std::uint8_t {
  FW_RETURN_OK = 0,
  FW_RETURN_INVALID_CID = 1,
  FW_RETURN_CONN_BUSY = 2,
  FW_RETURN_NO_ROUTE = 3,  // offload towards a portal whose link is down
};

struct EventRingEntry {
  std::uint8_t opcode = 0;  // IscsiEqeOpcode
  std::uint8_t fw_return_code = 0;
  std::uint16_t cid = 0;
  std::uint32_t echo = 0;
  std::uint64_t reserved = 0;
};
static_assert(sizeof(EventRingEntry) == 16);

}  // namespace qedisim::hsi
