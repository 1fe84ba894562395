// What drivers/scsi/libiscsi.c and scsi_transport_iscsi.c export to the LLD
// and to scsi-ml. Kernel names; one model function per kernel function.
#pragma once

#include <cstdint>

#include "host_driver_model/libiscsi/iscsi_objects.h"

namespace qedisim::drv {

// Task references; the last put runs iscsi_free_task (README.md, "Lifetimes").
void __iscsi_get_task(kern::KPtr<IscsiTask> task);
void __iscsi_put_task(kern::KPtr<IscsiTask> task);  // caller holds back_lock
void iscsi_put_task(kern::KPtr<IscsiTask> task);    // takes back_lock
// p01: COMPLETED, ABRT_TMF or ABRT_SESS_RECOV (done, not yet freed).
bool iscsi_task_is_completed(kern::KPtr<IscsiTask> task);

// itt lookups.
kern::KPtr<IscsiTask> iscsi_itt_to_task(kern::KPtr<IscsiConn> conn, std::uint32_t itt);
kern::KPtr<IscsiTask> iscsi_itt_to_ctask(kern::KPtr<IscsiConn> conn, std::uint32_t itt);  // p10 caller

// Responses from the LLD's completion path (caller holds back_lock).
// hdr carries the response opcode; status/response fields as below.
struct IscsiRsp {
  std::uint8_t opcode = 0;    // hsi::IscsiOpcode of the response
  std::uint32_t itt = 0;      // the task's hdr_itt
  std::uint8_t status = 0;    // SCSI status for SCSI_CMD_RSP
  std::uint8_t response = 0;  // TMF response code (hsi::IscsiTmfRsp)
};
void __iscsi_complete_pdu(kern::KPtr<IscsiConn> conn, const IscsiRsp& rsp);

// Errors and state.
enum IscsiErr : int {
  ISCSI_ERR_CONN_FAILED = 1011,
  ISCSI_ERR_SCSI_EH_SESSION_RST = 1036,
};
void iscsi_conn_failure(kern::KPtr<IscsiConn> conn, int err);
void iscsi_suspend_queue(kern::KPtr<IscsiConn> conn);
void iscsi_suspend_tx(kern::KPtr<IscsiConn> conn);
void iscsi_conn_start(kern::KPtr<IscsiConn> conn);
void iscsi_conn_teardown(kern::KPtr<IscsiConn> conn);
void iscsi_session_teardown(kern::KPtr<IscsiSession> session);

// scsi_transport_iscsi: transport-class session state. `caller` names the
// kernel function that asked (driver_session_state judges qedi_* callers).
void iscsi_block_session(kern::KPtr<IscsiSession> session);
void iscsi_unblock_session(kern::KPtr<IscsiSession> session);

}  // namespace qedisim::drv
