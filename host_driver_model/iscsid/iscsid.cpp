#include "host_driver_model/iscsid/iscsid.h"

#include <fmt/format.h>

#include "hba_model/hsi/qedi_hsi.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/libiscsi/transport_iscsi.h"

namespace qedisim::drv {

using kern::KFunc;
using kern::KPtr;

Iscsid::Iscsid(sc_core::sc_module_name name, std::vector<NodeConfig> nodes, std::function<bool(std::uint32_t)> link_up)
    : sc_core::sc_module(name), link_up_(std::move(link_up)) {
  wq_ = std::make_unique<kern::Workqueue>("iscsid_wq", "iscsid");
  for (std::uint32_t i = 0; i < nodes.size(); ++i) {
    auto s = std::make_unique<Sess>();
    s->id = i;
    s->luns = nodes[i].luns;
    s->cmds_max = nodes[i].cmds_max;
    s->logout_wait = std::make_unique<kern::WaitQueue>("iscsid_logout_wait");
    Sess* sp = s.get();
    s->relogin_timer = std::make_unique<kern::Timer>(
        "iscsid_relogin", [this, sp] { queue("iscsid_relogin", [this, sp] { relogin_attempt(*sp); }); });
    sessions_.push_back(std::move(s));
  }
}

void Iscsid::queue(const char* what, std::function<void()> fn) {
  while (!works_.empty() && !works_.front()->pending && wq_->running() != works_.front().get()) works_.pop_front();
  works_.push_back(std::make_unique<kern::Work>(what, std::move(fn)));
  wq_->queue_work(*works_.back());
}

bool Iscsid::idle() const {
  if (wq_->busy()) return false;
  for (const auto& s : sessions_)
    if (s->relogin_timer->pending()) return false;
  return true;
}

bool Iscsid::logged_in(std::uint32_t session) const { return sessions_.at(session)->st == St::logged_in; }

Iscsid::Sess* Iscsid::by_conn(const KPtr<IscsiConn>& conn) {
  for (auto& s : sessions_)
    if (s->conn && s->conn == conn) return s.get();
  return nullptr;
}

void Iscsid::login_all() {
  for (auto& s : sessions_) {
    Sess* sp = s.get();
    queue("iscsid_login", [this, sp] { login(*sp); });
  }
}

// iscsid names every kernel object by its id, and iscsi_if_recv_msg looks
// it up (iscsi_session_lookup, iscsi_conn_lookup, iscsi_lookup_endpoint): a
// request for one the kernel already destroyed by itself (hba.remove:
// qedi_clear_session_ctx) fails with -EINVAL instead of touching it, and
// ISCSI_KEVENT_DESTROY_SESSION makes iscsid forget the session. Returns true
// when the session is gone.
bool Iscsid::forget_destroyed(Sess& s) {
  if (s.ep && !s.ep.valid()) s.ep = nullptr;
  if (s.conn && !s.conn.valid()) s.conn = nullptr;
  if (!s.session || s.session.valid()) return false;
  s.session = nullptr;
  s.conn = nullptr;
  s.ep = nullptr;
  s.st = St::terminated;
  s.relogin_timer->del_timer();
  return true;
}

// ep_connect, (login PDUs: iscsid.login_latency), bind_conn, start_conn.
bool Iscsid::relogin_once(Sess& s) {
  if (forget_destroyed(s) || !s.conn) return false;
  if (!link_up_ || !link_up_(s.id)) return false;
  KPtr<QediEndpoint> ep = iscsi_if_ep_connect(s.id);
  if (!ep) return false;
  kern::sleep_for(params().iscsid_login_latency);
  if (forget_destroyed(s) || !s.conn) {  // removed during the login: the new ep goes with the host
    if (ep.valid()) iscsi_if_ep_disconnect(ep);
    return false;
  }
  if (iscsi_if_bind_conn(s.session, s.conn, ep) != 0) {
    iscsi_if_ep_disconnect(ep);
    return false;
  }
  s.ep = ep;
  if (forget_destroyed(s) || !s.conn) return false;  // removed during bind_conn
  // Login done: the relogin is no longer pending; start_conn completes it.
  const bool was_pending = s.session.raw()->relogin_pending;
  set_relogin_pending(s, false);
  if (iscsi_if_start_conn(s.conn) != 0) {
    set_relogin_pending(s, was_pending);
    return false;
  }
  return !forget_destroyed(s);  // not when removed during start_conn
}

// session->relogin_pending: the model's note of an iscsid relogin in
// progress, read by driver_session_state. Not a kernel field, so not a
// kernel access (no checker event, no scheduling point): set while the
// session exists.
void Iscsid::set_relogin_pending(Sess& s, bool pending) {
  if (!forget_destroyed(s)) s.session.raw()->relogin_pending = pending;
}

// session_login_task: create session and conn, then the first login.
void Iscsid::login(Sess& s) {
  KFunc f("iscsid_login");
  if (forget_destroyed(s) || s.st == St::terminated) return;                  // the host removed it
  if (!s.session) s.session = iscsi_session_setup(s.id, s.luns, s.cmds_max);  // qedi_session_create
  if (!s.conn) s.conn = iscsi_if_create_conn(s.session, 0);                   // a failed create is retried
  if (s.conn && relogin_once(s)) {
    s.st = St::logged_in;
    return;
  }
  s.relogin_timer->setup([this, sp = &s] { queue("iscsid_login", [this, sp] { login(*sp); }); });
  s.relogin_timer->mod_timer(params().iscsid_relogin_delay);
}

// session_conn_error -> session_conn_reopen: ep_disconnect, stop_conn(RECOVER), relogin.
void Iscsid::recover(Sess& s) {
  KFunc f("iscsid_conn_recovery");
  if (forget_destroyed(s) || s.st != St::logged_in) return;  // already recovering, terminating or driven by hand
  s.st = St::recovering;
  set_relogin_pending(s, true);
  ep_disconnect(s);
  stop_conn(s, STOP_CONN_RECOVER);
  relogin_attempt(s);
}

// One relogin attempt; another after iscsid.relogin_delay until the replacement timeout.
void Iscsid::relogin_attempt(Sess& s) {
  KFunc f("iscsid_relogin");
  if (forget_destroyed(s) || s.st != St::recovering) return;
  // The session state iscsid reads from sysfs (iscsi_session_state_show):
  // not one of its own kernel accesses.
  if (s.session.raw()->cls_state == ClsSessionState::FREE) {  // session_recovery_timedout ran
    s.st = St::recovery_failed;
    set_relogin_pending(s, false);
    return;
  }
  if (relogin_once(s)) {
    s.st = St::logged_in;
    set_relogin_pending(s, false);
    kern::printk(EvSys::iscsid, static_cast<std::int32_t>(s.id), "iscsid: connection{}:0 is operational after recovery",
                 s.id);
    return;
  }
  s.relogin_timer->setup([this, sp = &s] { queue("iscsid_relogin", [this, sp] { relogin_attempt(*sp); }); });
  s.relogin_timer->mod_timer(params().iscsid_relogin_delay);
}

void Iscsid::conn_error(KPtr<IscsiConn> conn, int err) {
  Sess* s = by_conn(conn);
  if (!s) return;
  kern::printk(EvSys::iscsid, static_cast<std::int32_t>(s->id),
               "iscsid: Kernel reported iSCSI connection {}:0 error ({}) state (logged in)", s->id, err);
  queue("iscsid_conn_error", [this, s] { recover(*s); });
}

void Iscsid::recv_pdu(KPtr<IscsiConn> conn, const IscsiRsp& rsp) {
  Sess* s = by_conn(conn);
  if (!s || rsp.opcode != hsi::ISCSI_OP_LOGOUT_RSP) return;
  s->logout_rsp = true;
  s->logout_wait->wake_up();
}

void Iscsid::ep_disconnect(Sess& s) {
  forget_destroyed(s);
  if (!s.ep) return;
  KPtr<QediEndpoint> ep = s.ep;
  s.ep = nullptr;
  iscsi_if_ep_disconnect(ep);
}

void Iscsid::stop_conn(Sess& s, int flag) {
  forget_destroyed(s);
  if (s.conn) iscsi_if_stop_conn(s.conn, flag);
}

void Iscsid::destroy_conn(Sess& s) {
  forget_destroyed(s);
  if (!s.conn) return;
  KPtr<IscsiConn> c = s.conn;
  s.conn = nullptr;
  iscsi_if_destroy_conn(c);
}

void Iscsid::destroy_session(Sess& s) {
  forget_destroyed(s);
  if (!s.session) return;
  KPtr<IscsiSession> sess = s.session;
  s.session = nullptr;
  iscsi_if_destroy_session(sess);
}

// iscsiadm -u: Logout, wait for its response (session.logout_timeout), then the teardown.
void Iscsid::logout(Sess& s) {
  KFunc f("iscsid_logout");
  forget_destroyed(s);
  if (s.conn && s.st == St::logged_in) {
    s.logout_rsp = false;
    IscsiHdr hdr;
    hdr.opcode = hsi::ISCSI_OP_LOGOUT;
    if (iscsi_conn_send_pdu(s.conn, hdr) == 0)
      kern::wait_event_timeout(
          *s.logout_wait, [&s] { return s.logout_rsp; }, params().session_logout_timeout);
  }
  terminate(s, true);
}

// Teardown in open-iscsi's order.
void Iscsid::terminate(Sess& s, bool unbind_target) {
  KFunc f("iscsid_terminate");
  kern::printk(EvSys::iscsid, static_cast<std::int32_t>(s.id), "iscsid: Connection{}:0 is shutdown.", s.id);
  s.st = St::terminated;
  s.relogin_timer->del_timer();
  forget_destroyed(s);
  if (unbind_target && s.session) iscsi_if_unbind_session(s.session);
  ep_disconnect(s);
  stop_conn(s, STOP_CONN_TERM);
  destroy_conn(s);
  destroy_session(s);
}

void Iscsid::request(ActionKind kind, const ActionArgs& args) {
  Sess* s = sessions_.at(args.session).get();
  switch (kind) {
    case ActionKind::iscsid_logout:
      queue("iscsid_logout", [this, s] { logout(*s); });
      break;
    case ActionKind::iscsid_terminate:
      queue("iscsid_terminate", [this, s, args] { terminate(*s, args.unbind_target); });
      break;
    case ActionKind::iscsid_ep_disconnect:
      queue("iscsid_ep_disconnect", [this, s] {
        KFunc f("iscsid_ep_disconnect");
        s->st = St::manual;
        s->relogin_timer->del_timer();
        ep_disconnect(*s);
      });
      break;
    case ActionKind::iscsid_stop_conn:
      queue("iscsid_stop_conn", [this, s, args] {
        KFunc f("iscsid_stop_conn");
        s->st = St::manual;
        stop_conn(*s, args.flag == StopFlag::recover ? STOP_CONN_RECOVER : STOP_CONN_TERM);
      });
      break;
    case ActionKind::iscsid_destroy_conn:
      queue("iscsid_destroy_conn", [this, s] {
        KFunc f("iscsid_destroy_conn");
        s->st = St::manual;
        destroy_conn(*s);
      });
      break;
    case ActionKind::iscsid_destroy_session:
      queue("iscsid_destroy_session", [this, s] {
        KFunc f("iscsid_destroy_session");
        s->st = St::terminated;
        destroy_session(*s);
      });
      break;
    case ActionKind::iscsid_relogin:
      queue("iscsid_relogin", [this, s] {
        KFunc f("iscsid_relogin");
        if (forget_destroyed(*s) || !s->conn || !s->session) return;
        ep_disconnect(*s);
        if (relogin_once(*s)) {
          s->st = St::logged_in;
          set_relogin_pending(*s, false);
        }
      });
      break;
    default:
      break;
  }
}

}  // namespace qedisim::drv
