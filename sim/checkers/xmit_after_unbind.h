// xmit_after_unbind (docs/invariants.md). Per conn, a no-xmit window opens at the
// first of unbind_conn returning or qedi_ep_disconnect being entered, and
// closes when the conn is started again. Inside it, a PDU for the conn
// reaching qedi_task_xmit (even if refused) fires, as does any non-cleanup
// WQE posted to its SQ. Cleanups and ramrods of the teardown are exempt.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "host_driver_model/probes.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class XmitAfterUnbindChecker : public Checker {
 public:
  explicit XmitAfterUnbindChecker(Findings& out) : Checker(InvariantId::xmit_after_unbind, out) {}
  void unbind_returned(const Site& at, const ObjRef& conn);
  void ep_disconnect_entered(const Site& at, const ObjRef& conn);
  void conn_started(const Site& at, const ObjRef& conn);
  // `session_state`: the session's state word at the event, for the message ("" if unknown).
  void xmit_entry(const Site& at, const ObjRef& conn, drv::PduKind kind, const char* session_state);
  void wqe_posted(const Site& at, const ObjRef& conn, drv::PduKind kind, bool cleanup, const char* session_state);

 private:
  struct Window {
    bool open = false;
    std::string opened_by;  // "unbind_conn returned", "qedi_ep_disconnect began"
    Site at;
    std::int64_t last_fire_ns = -1;  // xmit_entry fired: its WQE is the same PDU
    std::string last_fire_ctx;
  };
  void open(const Site& at, const ObjRef& conn, const char* why);
  void fire(const Site& at, const ObjRef& conn, Window& w, const char* what, const char* session_state);

  std::map<ObjKey, Window> windows_;  // by conn key
};

const char* pdu_word(drv::PduKind k);

}  // namespace qedisim::checkers
