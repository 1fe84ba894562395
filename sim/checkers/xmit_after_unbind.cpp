#include "sim/checkers/xmit_after_unbind.h"

#include <fmt/format.h>

namespace qedisim::checkers {

const char* pdu_word(drv::PduKind k) {
  switch (k) {
    case drv::PduKind::scsi_cmd:
      return "SCSI command";
    case drv::PduKind::tmf:
      return "TMF";
    case drv::PduKind::nop_out:
      return "nop-out";
    case drv::PduKind::logout:
      return "logout";
    case drv::PduKind::text:
      return "text PDU";
    case drv::PduKind::login:
      return "login";
  }
  return "PDU";
}

void XmitAfterUnbindChecker::open(const Site& at, const ObjRef& conn, const char* why) {
  Window& w = windows_[conn.key];
  if (w.open) return;
  w = Window{true, why, at, -1, {}};
}

void XmitAfterUnbindChecker::unbind_returned(const Site& at, const ObjRef& conn) {
  open(at, conn, "unbind_conn returned");
}

void XmitAfterUnbindChecker::ep_disconnect_entered(const Site& at, const ObjRef& conn) {
  open(at, conn, "qedi_ep_disconnect began");
}

void XmitAfterUnbindChecker::conn_started(const Site&, const ObjRef& conn) { windows_.erase(conn.key); }

void XmitAfterUnbindChecker::fire(const Site& at, const ObjRef& conn, Window& w, const char* what,
                                  const char* session_state) {
  std::string msg = fmt::format("{} {} after {} {}", what, secs(at.ns - w.at.ns), w.opened_by, where(w.at));
  if (*session_state) msg += fmt::format("; session still {}", session_state);
  report(at, conn.desc, at.fn, std::move(msg));
}

void XmitAfterUnbindChecker::xmit_entry(const Site& at, const ObjRef& conn, drv::PduKind kind,
                                        const char* session_state) {
  if (kind == drv::PduKind::login) return;  // a relogin binds first; login belongs to the next start
  const auto it = windows_.find(conn.key);
  if (it == windows_.end() || !it->second.open) return;
  it->second.last_fire_ns = at.ns;
  it->second.last_fire_ctx = at.ctx;
  fire(at, conn, it->second, fmt::format("{} reached the driver", pdu_word(kind)).c_str(), session_state);
}

void XmitAfterUnbindChecker::wqe_posted(const Site& at, const ObjRef& conn, drv::PduKind kind, bool cleanup,
                                        const char* session_state) {
  if (cleanup || kind == drv::PduKind::login) return;
  const auto it = windows_.find(conn.key);
  if (it == windows_.end() || !it->second.open) return;
  Window& w = it->second;
  if (w.last_fire_ns == at.ns && w.last_fire_ctx == at.ctx) return;  // already reported at xmit entry
  fire(at, conn, w, fmt::format("{} WQE posted to the SQ", pdu_word(kind)).c_str(), session_state);
}

}  // namespace qedisim::checkers
