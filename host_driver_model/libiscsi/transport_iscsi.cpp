// drivers/scsi/scsi_transport_iscsi.c: transport-class session state and
// the netlink ops iscsid issues. Block/unblock run synchronously here (the
// kernel queues them on iscsi_eh_timer_workq and, for unblock, flushes it).
#include "host_driver_model/libiscsi/transport_iscsi.h"

#include <algorithm>
#include <vector>

#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/scsi/scsi_host.h"

namespace qedisim::drv {

using kern::KFunc;
using kern::KPtr;

namespace {
IscsiUevents& uevents() {
  static IscsiUevents ev;
  return ev;
}
// struct iscsi_endpoint: which cls_conn is bound to each endpoint (ep->conn).
struct EpBinding {
  KPtr<QediEndpoint> ep;
  KPtr<IscsiConn> conn;
};
std::vector<EpBinding>& endpoints() {
  static std::vector<EpBinding> v;
  return v;
}
// iscsi_lookup_endpoint: an endpoint the LLD already destroyed
// (iscsi_destroy_endpoint) is not found.
EpBinding* find_ep(const KPtr<QediEndpoint>& ep) {
  for (auto& b : endpoints())
    if (b.ep == ep && ep.valid()) return &b;
  return nullptr;
}
// iscsi_session_lookup / iscsi_conn_lookup: iscsid names each object by its
// id, and iscsi_if_recv_msg finds it on sesslist/connlist; one the kernel
// already destroyed (hba.remove: qedi_clear_session_ctx) is not found and
// the request fails with -EINVAL without touching it. valid() (false for
// NULL too) reads no field of the object.
template <typename T>
bool lookup(const KPtr<T>& obj) {
  return obj.valid();
}
constexpr int kEinval = -22;

// The kernel function that called into the transport class (before our own KFunc is pushed).
std::string_view current_caller() { return kern::Kernel::get().current().function(); }
}  // namespace

void iscsi_register_uevents(IscsiUevents ev) { uevents() = std::move(ev); }

// iscsi_conn_error_event: ISCSI_KEVENT_CONN_ERROR to iscsid.
void iscsi_conn_error_event(KPtr<IscsiConn> conn, int err) {
  KFunc f("iscsi_conn_error_event");
  if (uevents().conn_error) uevents().conn_error(conn, err);
}

// iscsi_recv_pdu: ISCSI_KEVENT_RECV_PDU (Logout response, async event) to iscsid.
void iscsi_recv_pdu(KPtr<IscsiConn> conn, const IscsiRsp& rsp) {
  if (uevents().recv_pdu) uevents().recv_pdu(conn, rsp);
}

// iscsi_block_session -> __iscsi_block_session: FAILED, target blocked, replacement timer.
void iscsi_block_session(KPtr<IscsiSession> session, std::string_view caller) {
  KFunc f("iscsi_block_session");
  kern::printk(EvSys::transport, static_cast<std::int32_t>(KRD(session, id)), "session{}: blocking session",
               KRD(session, id));
  probes().session_change(session, SessionChange::block, caller);
  {
    kern::Guard g(session.raw()->cls_lock);
    KWR(session, cls_state) = ClsSessionState::FAILED;
  }
  probes().session_change(session, SessionChange::set_failed, caller);
  KWR(session, target_blocked) = true;
  shost().scsi_target_block(KRD(session, id));
  kern::Timer& rw = KTIMER(session, recovery_work);
  if (!rw.pending()) {  // queue_delayed_work: not re-armed while pending
    rw.mod_timer(params().session_recovery_timeout);
    probes().session_change(session, SessionChange::recovery_timer_start, caller);
  }
}

void iscsi_block_session(KPtr<IscsiSession> session) { iscsi_block_session(session, current_caller()); }

// iscsi_unblock_session -> __iscsi_unblock_session: cancel recovery, LOGGED_IN, start IO.
void iscsi_unblock_session(KPtr<IscsiSession> session, std::string_view caller) {
  KFunc f("iscsi_unblock_session");
  kern::printk(EvSys::transport, static_cast<std::int32_t>(KRD(session, id)), "session{}: Unblocking session",
               KRD(session, id));
  if (KTIMER(session, recovery_work).del_timer())
    probes().session_change(session, SessionChange::recovery_timer_cancel, caller);
  {
    kern::Guard g(session.raw()->cls_lock);
    KWR(session, cls_state) = ClsSessionState::LOGGED_IN;
  }
  probes().session_change(session, SessionChange::set_logged_in, caller);
  KWR(session, target_blocked) = false;
  shost().scsi_target_unblock(KRD(session, id), SdevState::RUNNING);
  probes().session_change(session, SessionChange::unblock, caller);
}

void iscsi_unblock_session(KPtr<IscsiSession> session) { iscsi_unblock_session(session, current_caller()); }

// session_recovery_timedout: recovery_work expired (timer context here).
void session_recovery_timedout(KPtr<IscsiSession> session) {
  KFunc f("session_recovery_timedout");
  {
    kern::Guard g(session.raw()->cls_lock);
    if (KRD(session, cls_state) != ClsSessionState::FAILED) return;  // raced with the unblock
    KWR(session, cls_state) = ClsSessionState::FREE;
  }
  kern::printk(EvSys::transport, static_cast<std::int32_t>(KRD(session, id)),
               "session{}: session recovery timed out after {}", KRD(session, id),
               format_duration(params().session_recovery_timeout));
  iscsi_session_recovery_timedout(session);
  KWR(session, target_blocked) = false;
  // scsi_target_unblock(SDEV_TRANSPORT_OFFLINE): queued IO fails fast.
  shost().scsi_target_unblock(KRD(session, id), SdevState::TRANSPORT_OFFLINE);
}

// iscsi_remove_session: stop recovery, unbind the target, session FREE.
void iscsi_remove_session(KPtr<IscsiSession> session) {
  KFunc f("iscsi_remove_session");
  KTIMER(session, recovery_work).del_timer();  // the session goes away with its timer
  KWR(session, target_blocked) = false;
  shost().scsi_target_unblock(KRD(session, id), SdevState::TRANSPORT_OFFLINE);
  shost().scsi_remove_target(KRD(session, id));  // __iscsi_unbind_session
  kern::Guard g(session.raw()->cls_lock);
  KWR(session, cls_state) = ClsSessionState::FREE;
}

// ---- netlink ops ------------------------------------------------------------

// ISCSI_UEVENT_TRANSPORT_EP_CONNECT
KPtr<QediEndpoint> iscsi_if_ep_connect(std::uint32_t session_id) {
  KFunc f("iscsi_if_ep_connect");
  KPtr<QediEndpoint> ep = driver().transport->ep_connect(session_id);
  if (ep) endpoints().push_back(EpBinding{ep, nullptr});
  return ep;
}

// ISCSI_UEVENT_CREATE_CONN -> transport->create_conn (qedi_conn_create).
KPtr<IscsiConn> iscsi_if_create_conn(KPtr<IscsiSession> session, std::uint32_t conn_idx) {
  KFunc f("iscsi_if_create_conn");
  if (!lookup(session)) return nullptr;
  return driver().transport->create_conn(session, conn_idx);
}

// ISCSI_UEVENT_BIND_CONN: conn->ep = ep; then transport->bind_conn (qedi_conn_bind -> iscsi_conn_bind).
int iscsi_if_bind_conn(KPtr<IscsiSession> session, KPtr<IscsiConn> conn, KPtr<QediEndpoint> ep) {
  KFunc f("iscsi_if_bind_conn");
  EpBinding* b = find_ep(ep);
  if (!b || !lookup(session) || !lookup(conn)) return kEinval;
  KWR(conn, ep) = ep;
  b->conn = conn;
  iscsi_conn_bind(session, conn, true);
  return driver().transport->bind_conn(conn, ep);
}

// ISCSI_UEVENT_START_CONN -> transport->start_conn (qedi_conn_start -> iscsi_conn_start).
int iscsi_if_start_conn(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_if_start_conn");
  if (!lookup(conn)) return kEinval;
  return driver().transport->start_conn(conn);
}

// ISCSI_UEVENT_STOP_CONN -> transport->stop_conn (iscsi_conn_stop for qedi).
void iscsi_if_stop_conn(KPtr<IscsiConn> conn, int flag) {
  KFunc f("iscsi_if_stop_conn");
  if (!lookup(conn)) return;
  iscsi_conn_stop(conn, flag);
}

// p03: unbind_conn when an endpoint is bound, before the LLD's ep_disconnect.
static void iscsi_if_ep_disconnect_unbind_p03(KPtr<IscsiConn> conn) {
  if (fixed(Patch::p03)) iscsi_conn_unbind(conn);
}

// ISCSI_UEVENT_TRANSPORT_EP_DISCONNECT
void iscsi_if_ep_disconnect(KPtr<QediEndpoint> ep) {
  KFunc f("iscsi_if_ep_disconnect");
  EpBinding* b = find_ep(ep);
  if (!b) return;
  KPtr<IscsiConn> conn = b->conn;
  if (conn) {
    b->conn = nullptr;
    KWR(conn, ep) = nullptr;  // conn->ep = NULL under ep_mutex
    KWR(conn, bound) = false;
    iscsi_if_ep_disconnect_unbind_p03(conn);
  }
  driver().transport->ep_disconnect(ep);
  auto& v = endpoints();
  v.erase(std::remove_if(v.begin(), v.end(), [&](const EpBinding& e) { return e.ep == ep; }), v.end());
}

// ISCSI_UEVENT_DESTROY_CONN -> transport->destroy_conn (qedi_conn_destroy -> iscsi_conn_teardown).
void iscsi_if_destroy_conn(KPtr<IscsiConn> conn) {
  KFunc f("iscsi_if_destroy_conn");
  if (!lookup(conn)) return;
  for (auto& b : endpoints())
    if (b.conn == conn) b.conn = nullptr;
  driver().transport->destroy_conn(conn);
}

// ISCSI_UEVENT_DESTROY_SESSION -> transport->destroy_session (qedi_session_destroy -> iscsi_session_teardown).
void iscsi_if_destroy_session(KPtr<IscsiSession> session) {
  KFunc f("iscsi_if_destroy_session");
  if (!lookup(session)) return;
  driver().transport->destroy_session(session);
}

// ISCSI_UEVENT_UNBIND_SESSION -> __iscsi_unbind_session: remove the target's devices.
void iscsi_if_unbind_session(KPtr<IscsiSession> session) {
  KFunc f("iscsi_if_unbind_session");
  if (!lookup(session)) return;
  shost().scsi_remove_target(KRD(session, id));
}

}  // namespace qedisim::drv
