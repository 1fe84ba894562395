// drivers/scsi/scsi_transport_iscsi.c: the transport class (session state,
// block/unblock, the replacement timer) and the netlink ops iscsid uses
// (iscsi_if_recv_msg), serialised by rx_queue_mutex in the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "host_driver_model/libiscsi/libiscsi.h"
#include "host_driver_model/libiscsi/transport.h"

namespace qedisim::drv {

// Transport-class state with the asking kernel function named (driver_session_state).
void iscsi_block_session(kern::KPtr<IscsiSession> session, std::string_view caller);
void iscsi_unblock_session(kern::KPtr<IscsiSession> session, std::string_view caller);
// recovery_work: the replacement timeout expired (session_recovery_timedout).
void session_recovery_timedout(kern::KPtr<IscsiSession> session);
// iscsi_remove_session: cancel recovery, unbind the target (remove its devices).
void iscsi_remove_session(kern::KPtr<IscsiSession> session);

// Events to userspace (netlink uevents), delivered to iscsid.
void iscsi_conn_error_event(kern::KPtr<IscsiConn> conn, int err = ISCSI_ERR_CONN_FAILED);
void iscsi_recv_pdu(kern::KPtr<IscsiConn> conn, const IscsiRsp& rsp);
struct IscsiUevents {
  std::function<void(kern::KPtr<IscsiConn>, int)> conn_error;
  std::function<void(kern::KPtr<IscsiConn>, const IscsiRsp&)> recv_pdu;
};
void iscsi_register_uevents(IscsiUevents ev);

// ---- netlink ops (ISCSI_UEVENT_*) ----
kern::KPtr<QediEndpoint> iscsi_if_ep_connect(std::uint32_t session_id);
kern::KPtr<IscsiConn> iscsi_if_create_conn(kern::KPtr<IscsiSession> session, std::uint32_t conn_idx);
int iscsi_if_bind_conn(kern::KPtr<IscsiSession> session, kern::KPtr<IscsiConn> conn, kern::KPtr<QediEndpoint> ep);
int iscsi_if_start_conn(kern::KPtr<IscsiConn> conn);
void iscsi_if_stop_conn(kern::KPtr<IscsiConn> conn, int flag);
// p03: unbind_conn first when an endpoint is bound, then the LLD's ep_disconnect.
void iscsi_if_ep_disconnect(kern::KPtr<QediEndpoint> ep);
void iscsi_if_destroy_conn(kern::KPtr<IscsiConn> conn);
void iscsi_if_destroy_session(kern::KPtr<IscsiSession> session);
// ISCSI_UEVENT_UNBIND_SESSION: remove the target's devices.
void iscsi_if_unbind_session(kern::KPtr<IscsiSession> session);

}  // namespace qedisim::drv
