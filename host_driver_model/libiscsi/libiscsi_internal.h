// The rest of drivers/scsi/libiscsi.c that scsi-ml (host template),
// scsi_transport_iscsi and iscsid reach; libiscsi.h holds what qedi calls.
#pragma once

#include <cstdint>

#include "host_driver_model/libiscsi/libiscsi.h"
#include "host_driver_model/scsi/scsi_host.h"

namespace qedisim::drv {

// include/scsi/iscsi_proto.h
constexpr std::uint32_t RESERVED_ITT = 0xffffffffu;
constexpr int ISCSI_AGE_SHIFT = 28;
constexpr std::uint32_t ISCSI_MGMT_CMDS_MAX = 15;
constexpr std::uint32_t ISCSI_TOTAL_CMDS_MIN = 16;
constexpr std::uint32_t ISCSI_TOTAL_CMDS_MAX = 4096;
inline std::uint32_t build_itt(std::uint32_t index, int age) {
  return (index & 0x0fffffffu) | (static_cast<std::uint32_t>(age & 0xf) << ISCSI_AGE_SHIFT);
}
inline std::uint32_t get_itt(std::uint32_t itt) { return itt & 0x0fffffffu; }

// include/scsi/scsi_transport_iscsi.h
enum : int { STOP_CONN_TERM = 0x1, STOP_CONN_SUSPEND = 0x2, STOP_CONN_RECOVER = 0x3 };
enum : int { ISCSI_ERR_NOP_TIMEDOUT = 1023 };

// ---- struct scsi_host_template entry points (qedi_host_template) ----
int iscsi_queuecommand(kern::KPtr<ScsiCmnd> sc);
BlkEhTimerReturn iscsi_eh_cmd_timed_out(kern::KPtr<ScsiCmnd> sc);
int iscsi_eh_abort(kern::KPtr<ScsiCmnd> sc);
int iscsi_eh_device_reset(kern::KPtr<ScsiCmnd> sc);
int iscsi_eh_target_reset(kern::KPtr<ScsiCmnd> sc);
int iscsi_eh_recover_target(kern::KPtr<ScsiCmnd> sc);
int iscsi_eh_session_reset(kern::KPtr<ScsiCmnd> sc);

// ---- session and connection lifetime (qedi_session_create / qedi_conn_create call these) ----
// iscsi_host_get_max_scsi_cmds: the pool libiscsi makes of `requested` tasks: at most
// ISCSI_TOTAL_CMDS_MAX, rounded down to a power of two (its kfifo's size). The kernel
// refuses a pool below ISCSI_TOTAL_CMDS_MIN; qedi_session_create never asks for one, and
// the model keeps such a pool as asked (only the test transports ask for one).
std::uint32_t iscsi_session_pool_size(std::uint32_t requested);
// `cmds_max`: the session's task pool (iscsid's node.session.cmds_max); 0 = session.cmds_max.
kern::KPtr<IscsiSession> iscsi_session_setup(std::uint32_t id, std::uint32_t luns, std::uint32_t cmds_max = 0);
kern::KPtr<IscsiConn> iscsi_conn_setup(kern::KPtr<IscsiSession> session, std::uint32_t conn_idx);
int iscsi_conn_bind(kern::KPtr<IscsiSession> session, kern::KPtr<IscsiConn> conn, bool is_leading);
void iscsi_conn_unbind(kern::KPtr<IscsiConn> conn);  // p03: transport->unbind_conn
void iscsi_conn_stop(kern::KPtr<IscsiConn> conn, int flag);
void iscsi_session_recovery_timedout(kern::KPtr<IscsiSession> session);
bool iscsi_session_has_tasks(kern::KPtr<IscsiSession> session);  // p05
void iscsi_start_tx(kern::KPtr<IscsiConn> conn);
void iscsi_pool_free(kern::KPtr<IscsiSession> session);

// get_device / put_device on iscsi_cls_session->dev: the last put frees the
// session (iscsi_session_release); iscsi_session_teardown drops its own.
void iscsi_session_get_dev(kern::KPtr<IscsiSession> session);
void iscsi_session_put_dev(kern::KPtr<IscsiSession> session);

// iscsi_verify_itt: the itt's age is the session's and its index in the pool.
bool iscsi_verify_itt(kern::KPtr<IscsiConn> conn, std::uint32_t itt);

// iscsi_free_task: the last __iscsi_put_task (libiscsi_task.cpp) frees the
// task back to the pool. Caller holds back_lock.
void iscsi_free_task(kern::KPtr<IscsiTask> task);

// iscsi_conn_send_pdu: a PDU from userspace (iscsid's Logout). 0 or -EPERM.
int iscsi_conn_send_pdu(kern::KPtr<IscsiConn> conn, const IscsiHdr& hdr);

// The TMF fields' home: the conn before p06, the session after it (host_driver_model/README.md).
TmfFields& iscsi_tmf_fields(kern::KPtr<IscsiSession> session, kern::KPtr<IscsiConn> conn, kern::AccessKind kind,
                            const char* field);

}  // namespace qedisim::drv
