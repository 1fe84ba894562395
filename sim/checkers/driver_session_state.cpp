#include "sim/checkers/driver_session_state.h"

#include <fmt/format.h>

namespace qedisim::checkers {

const char* change_word(drv::SessionChange c) {
  switch (c) {
    case drv::SessionChange::block:
      return "iscsi_block_session";
    case drv::SessionChange::unblock:
      return "iscsi_unblock_session";
    case drv::SessionChange::set_logged_in:
      return "session set LOGGED_IN";
    case drv::SessionChange::set_failed:
      return "session set FAILED";
    case drv::SessionChange::recovery_timer_cancel:
      return "recovery timer cancel";
    case drv::SessionChange::recovery_timer_start:
      return "recovery timer start";
  }
  return "session change";
}

void DriverSessionStateChecker::conn_failed(const Site& at, long session, const ObjRef& conn) {
  Session& s = sessions_[session];
  if (s.conn_down && s.conn_how == "failed") return;
  s.conn_down = true;
  s.conn_how = "failed";
  s.conn = conn;
  s.down_at = at;
  s.cmd_reported = false;
}

void DriverSessionStateChecker::conn_stopped(const Site& at, long session, const ObjRef& conn, StopFlag) {
  Session& s = sessions_[session];
  if (s.conn_down) return;
  s.conn_down = true;
  s.conn_how = "stopped";
  s.conn = conn;
  s.down_at = at;
  s.cmd_reported = false;
}

void DriverSessionStateChecker::conn_started(const Site&, long session) {
  Session& s = sessions_[session];
  s.conn_down = false;
  s.conn_how.clear();
}

void DriverSessionStateChecker::session_change(const Site& at, long session, drv::SessionChange change,
                                               std::string_view caller, bool relogin_pending) {
  Session& s = sessions_[session];
  const bool restores = change == drv::SessionChange::unblock || change == drv::SessionChange::set_logged_in ||
                        change == drv::SessionChange::recovery_timer_cancel;
  // Who calls does not matter: the relogin that recovers the session starts
  // its conn first, which closes the window.
  if (restores && (s.conn_down || relogin_pending)) {
    std::string msg = fmt::format("{} called by {}", change_word(change), caller);
    if (s.conn_down)
      msg += fmt::format(" while conn {} {} ({})", s.conn.desc.substr(s.conn.desc.find(' ') + 1), s.conn_how,
                         secs(s.down_at.ns));
    else
      msg += " while a relogin is pending";
    report(at, name(session), std::string(caller), std::move(msg));
  }
  if (change == drv::SessionChange::set_failed && !s.cls_failed) {
    s.cls_failed = true;
    s.cmd_reported = false;
  }
  if (change == drv::SessionChange::set_logged_in) s.cls_failed = false;
}

void DriverSessionStateChecker::scsi_cmd_to_driver(const Site& at, long session, const ObjRef& cmd) {
  Session& s = sessions_[session];
  if (!(s.conn_down && s.conn_how == "failed") && !s.cls_failed) return;
  if (s.cmd_reported) return;
  s.cmd_reported = true;
  report(at, name(session), at.fn,
         fmt::format("{} reached the driver while the session is {}", cmd.desc,
                     s.cls_failed ? "FAILED" : fmt::format("in recovery (conn failed {})", secs(s.down_at.ns))));
}

}  // namespace qedisim::checkers
