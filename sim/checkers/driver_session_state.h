// driver_session_state (docs/invariants.md), judged on what happens to a session,
// never on who calls. Watches the transport-class session state, target
// block/unblock and the recovery timer. Fires when (1) a session is
// unblocked, set LOGGED_IN or has its recovery timer cancelled while it is
// in recovery: its conn failed or stopped (until the conn is started again,
// which the relogin that recovers it does first) or a relogin is pending;
// (2) a SCSI command reaches the driver while the session is FAILED or its
// conn failed (once per recovery window). A block/unblock pair on a healthy
// session is legal, whoever does it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "host_driver_model/probes.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class DriverSessionStateChecker : public Checker {
 public:
  explicit DriverSessionStateChecker(Findings& out) : Checker(InvariantId::driver_session_state, out) {}
  void conn_failed(const Site& at, long session, const ObjRef& conn);
  void conn_stopped(const Site& at, long session, const ObjRef& conn, StopFlag flag);
  void conn_started(const Site& at, long session);
  // `relogin_pending`: session->relogin_pending at the event.
  void session_change(const Site& at, long session, drv::SessionChange change, std::string_view caller,
                      bool relogin_pending);
  void scsi_cmd_to_driver(const Site& at, long session, const ObjRef& cmd);

 private:
  struct Session {
    bool conn_down = false;  // failed or stopped since the last start
    std::string conn_how;    // "failed", "stopped"
    ObjRef conn;
    Site down_at;
    bool cls_failed = false;
    bool cmd_reported = false;  // (3) once per window
  };
  static std::string name(long session) { return "iscsi_cls_session s" + std::to_string(session); }
  std::map<long, Session> sessions_;
};

const char* change_word(drv::SessionChange c);

}  // namespace qedisim::checkers
