// open-iscsi's iscsid as the kernel sees it (usr/initiator.c): the control
// sequences of docs/scenarios.md driven through the netlink ops of
// scsi_transport_iscsi, one at a time in the "iscsid" context (the ordered
// worker stands for rx_queue_mutex and iscsid's single event loop).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "common/vocabulary.h"
#include "host_driver_model/kernel/timer.h"
#include "host_driver_model/kernel/wait.h"
#include "host_driver_model/kernel/workqueue.h"
#include "host_driver_model/libiscsi/libiscsi.h"

namespace qedisim::drv {

// One node record iscsid logs in: the target's LUNs and the session's
// node.session.cmds_max (0: the session.cmds_max parameter).
struct NodeConfig {
  std::uint32_t luns = 1;
  std::uint32_t cmds_max = 0;
};

class Iscsid : public sc_core::sc_module {
 public:
  // `nodes[i]`: session i. `link_up(i)`: can session i reach its target now.
  Iscsid(sc_core::sc_module_name name, std::vector<NodeConfig> nodes, std::function<bool(std::uint32_t)> link_up);

  // Initial login of every session (queued at elaboration, runs at t=0).
  void login_all();
  // One docs/scenarios.md iscsid.* action, queued behind whatever iscsid is doing.
  void request(ActionKind kind, const ActionArgs& args);
  // ISCSI_KEVENT_CONN_ERROR: start connection recovery.
  void conn_error(kern::KPtr<IscsiConn> conn, int err);
  // ISCSI_KEVENT_RECV_PDU: a Logout response.
  void recv_pdu(kern::KPtr<IscsiConn> conn, const IscsiRsp& rsp);

  bool idle() const;
  bool logged_in(std::uint32_t session) const;

 private:
  enum class St { none, logged_in, recovering, manual, terminated, recovery_failed };
  struct Sess {
    std::uint32_t id = 0;
    std::uint32_t luns = 1;
    std::uint32_t cmds_max = 0;
    kern::KPtr<IscsiSession> session;
    kern::KPtr<IscsiConn> conn;
    kern::KPtr<QediEndpoint> ep;
    St st = St::none;
    bool logout_rsp = false;
    std::unique_ptr<kern::WaitQueue> logout_wait;
    std::unique_ptr<kern::Timer> relogin_timer;
  };

  void queue(const char* what, std::function<void()> fn);
  void login(Sess& s);
  bool relogin_once(Sess& s);
  void recover(Sess& s);
  void relogin_attempt(Sess& s);
  void logout(Sess& s);
  void terminate(Sess& s, bool unbind_target);
  void ep_disconnect(Sess& s);
  void stop_conn(Sess& s, int flag);
  void destroy_conn(Sess& s);
  void destroy_session(Sess& s);
  bool forget_destroyed(Sess& s);
  void set_relogin_pending(Sess& s, bool pending);
  Sess* by_conn(const kern::KPtr<IscsiConn>& conn);

  std::vector<std::unique_ptr<Sess>> sessions_;
  std::function<bool(std::uint32_t)> link_up_;
  std::unique_ptr<kern::Workqueue> wq_;  // the "iscsid" context
  std::deque<std::unique_ptr<kern::Work>> works_;
  // kmemleak root: what scsi_transport_iscsi's lists (sesslist, connlist,
  // the endpoint idr) hold for iscsid's handles.
  kern::KmemleakRoot leak_roots_{this, "iscsi transport lists", [this](kern::RefVisitor& v) {
                                   for (const auto& s : sessions_) {
                                     v(s->session);
                                     v(s->conn);
                                     v(s->ep);
                                   }
                                 }};
};

}  // namespace qedisim::drv
