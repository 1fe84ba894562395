// struct iscsi_transport: the LLD ops libiscsi and scsi_transport_iscsi call
// (qedi's qedi_iscsi_transport in drivers/scsi/qedi/qedi_iscsi.c). qedi
// implements this class; libiscsi never calls qedi any other way.
#pragma once

#include <cstdint>

#include "host_driver_model/libiscsi/iscsi_objects.h"

namespace qedisim::drv {

class IscsiTransport {
 public:
  virtual ~IscsiTransport() = default;

  // .xmit_task = qedi_task_xmit: SCSI command or management PDU to the SQ.
  // 0, or -ENODEV (QEDI_IN_SHUTDOWN), -EACCES (QEDI_BLOCK_IO, p14), -ENOMEM (no tid).
  virtual int xmit_task(kern::KPtr<IscsiTask> task) = 0;
  // .cleanup_task = qedi_cleanup_task: called from iscsi_free_task at the last put.
  virtual void cleanup_task(kern::KPtr<IscsiTask> task) = 0;

  // Endpoint and connection ops, called from scsi_transport_iscsi (iscsid).
  // .create_conn = qedi_conn_create: iscsi_conn_setup, then the LLD's own
  // per-conn resources (qedi_conn_alloc_login_resources); null on failure.
  virtual kern::KPtr<IscsiConn> create_conn(kern::KPtr<IscsiSession> session, std::uint32_t conn_idx) = 0;
  // .ep_connect = qedi_ep_connect: allocates the endpoint and offloads the conn in firmware.
  virtual kern::KPtr<QediEndpoint> ep_connect(std::uint32_t session_id) = 0;
  // .ep_disconnect = qedi_ep_disconnect
  virtual void ep_disconnect(kern::KPtr<QediEndpoint> ep) = 0;
  // .bind_conn = qedi_conn_bind
  virtual int bind_conn(kern::KPtr<IscsiConn> conn, kern::KPtr<QediEndpoint> ep) = 0;
  // .start_conn = qedi_conn_start (calls iscsi_conn_start)
  virtual int start_conn(kern::KPtr<IscsiConn> conn) = 0;
  // .stop_conn = iscsi_conn_stop for qedi (qedi sets .stop_conn = iscsi_conn_stop)
  // .destroy_conn = qedi_conn_destroy (calls iscsi_conn_teardown)
  virtual void destroy_conn(kern::KPtr<IscsiConn> conn) = 0;
  // .destroy_session = qedi_session_destroy (calls iscsi_session_teardown)
  virtual void destroy_session(kern::KPtr<IscsiSession> session) = 0;
  // .create_session = qedi_session_create, the part before
  // iscsi_session_setup: the task pool size the LLD lets a session have
  // for the cmds_max iscsid asks.
  virtual std::uint32_t session_cmds_max(std::uint32_t requested) const { return requested; }
};

}  // namespace qedisim::drv
