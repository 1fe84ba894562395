// A stand-in LLD + remote target for testing the Linux side without qedi or
// the HBA: xmit_task answers SCSI commands, TMFs, NOP-Outs and Logouts after
// `latency` from an io-thread-like context ("fake_io/0") that calls
// __iscsi_complete_pdu under back_lock, as qedi_fp_process_cqes does.
// cleanup_task reads task->conn->dd_data, as qedi_cleanup_task does.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <systemc>
#include <vector>

#include "hba_model/hsi/qedi_hsi.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/kthread.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/libiscsi/transport.h"

namespace qedisim::drv::test {

enum class TmfAnswer { complete, no_task, drop };

class FakeTransport : public sc_core::sc_module, public IscsiTransport {
 public:
  Duration latency = Duration::from_us(100);
  // Return true to never answer this SCSI command (target.scsi_rsp drop).
  std::function<bool(std::uint64_t nth_scsi_cmd)> drop_scsi;
  TmfAnswer abort_answer = TmfAnswer::complete;
  TmfAnswer lu_reset_answer = TmfAnswer::complete;
  TmfAnswer tgt_reset_answer = TmfAnswer::complete;
  bool link = true;
  // SCSI commands xmitted before this time are refused (a non-zero return,
  // as qedi_task_xmit's in shutdown or out of tids): libiscsi answers busy.
  Duration refuse_scsi_until{};
  Duration ep_disconnect_hold{};  // qedi_ep_disconnect's wait for TMF works
  std::uint64_t scsi_cmds = 0;

  explicit FakeTransport(sc_core::sc_module_name name) : sc_core::sc_module(name) {
    io_ = std::make_unique<kern::KThread>("fake_io", "fake_io/0", [this] { io_thread(); });
  }

  int xmit_task(kern::KPtr<IscsiTask> task) override {
    kern::KFunc f("fake_task_xmit");
    kern::KPtr<IscsiConn> conn = KRD(task, conn);
    const IscsiHdr hdr = KRD(task, hdr);
    probes().xmit_entry(conn, kind_of(hdr.opcode));
    switch (hdr.opcode) {
      case hsi::ISCSI_OP_SCSI_CMD: {
        if (kern::Kernel::now_ns() < refuse_scsi_until.ns) return -19;  // -ENODEV
        const std::uint64_t nth = ++scsi_cmds;
        if (drop_scsi && drop_scsi(nth)) return 0;
        IscsiRsp rsp;
        rsp.opcode = hsi::ISCSI_OP_SCSI_CMD_RSP;
        rsp.itt = KRD(task, hdr_itt);
        answer(conn, rsp, hdr.lun, true);
        return 0;
      }
      case hsi::ISCSI_OP_SCSI_TMFUNC: {
        const TmfAnswer a = hdr.tm_function == hsi::ISCSI_TM_FUNC_ABORT_TASK           ? abort_answer
                            : hdr.tm_function == hsi::ISCSI_TM_FUNC_LOGICAL_UNIT_RESET ? lu_reset_answer
                                                                                       : tgt_reset_answer;
        if (a == TmfAnswer::drop) return 0;
        if (a == TmfAnswer::complete) drop_victims(conn, hdr);
        IscsiRsp rsp;
        rsp.opcode = hsi::ISCSI_OP_SCSI_TMFUNC_RSP;
        rsp.itt = KRD(task, hdr_itt);
        rsp.response = a == TmfAnswer::complete ? hsi::ISCSI_TMF_RSP_COMPLETE : hsi::ISCSI_TMF_RSP_NO_TASK;
        answer(conn, rsp, 0, false);
        return 0;
      }
      case hsi::ISCSI_OP_NOOP_OUT: {
        if (hdr.itt == RESERVED_ITT) return 0;
        IscsiRsp rsp;
        rsp.opcode = hsi::ISCSI_OP_NOOP_IN;
        rsp.itt = KRD(task, hdr_itt);
        answer(conn, rsp, 0, false);
        return 0;
      }
      case hsi::ISCSI_OP_LOGOUT: {
        IscsiRsp rsp;
        rsp.opcode = hsi::ISCSI_OP_LOGOUT_RSP;
        rsp.itt = KRD(task, hdr_itt);
        answer(conn, rsp, 0, false);
        return 0;
      }
      default:
        return 0;
    }
  }

  // qedi_cleanup_task reads the conn through the task.
  void cleanup_task(kern::KPtr<IscsiTask> task) override {
    kern::KPtr<IscsiConn> conn = KRD(task, conn);
    (void)KRD(conn, dd_data).iscsi_conn_id;
  }

  kern::KPtr<QediEndpoint> ep_connect(std::uint32_t session_id) override {
    if (!link) return nullptr;
    kern::KPtr<QediEndpoint> ep = eps_.alloc(fmt::format("ep s{}", session_id));
    ep.raw()->iscsi_cid = session_id;
    return ep;
  }

  void ep_disconnect(kern::KPtr<QediEndpoint> ep) override {
    kern::KFunc f("fake_ep_disconnect");
    kern::KPtr<IscsiConn> conn = ep.raw()->conn;
    if (conn) probes().ep_disconnect_entered(conn);
    if (ep_disconnect_hold.ns > 0) kern::sleep_for(ep_disconnect_hold);
    if (conn) {
      drop_conn(conn);
      probes().ep_disconnect_barrier(conn);
      conn.raw()->dd_data.ep = nullptr;
      probes().ep_disconnect_returned(conn);
    }
    ep.raw()->conn = nullptr;
    eps_.free(ep);
  }

  int bind_conn(kern::KPtr<IscsiConn> conn, kern::KPtr<QediEndpoint> ep) override {
    ep.raw()->conn = conn;
    conn.raw()->dd_data.ep = ep;
    return 0;
  }
  int start_conn(kern::KPtr<IscsiConn> conn) override {
    iscsi_conn_start(conn);
    return 0;
  }
  kern::KPtr<IscsiConn> create_conn(kern::KPtr<IscsiSession> session, std::uint32_t conn_idx) override {
    return iscsi_conn_setup(session, conn_idx);
  }
  void destroy_conn(kern::KPtr<IscsiConn> conn) override { iscsi_conn_teardown(conn); }
  void destroy_session(kern::KPtr<IscsiSession> session) override { iscsi_session_teardown(session); }

  bool idle() const { return pending_.empty(); }

 private:
  struct Pending {
    std::int64_t due = 0;
    kern::KPtr<IscsiConn> conn;
    IscsiRsp rsp;
    std::uint32_t lun = 0;
    bool scsi = false;
  };

  static PduKind kind_of(std::uint8_t op) {
    switch (op) {
      case hsi::ISCSI_OP_SCSI_CMD:
        return PduKind::scsi_cmd;
      case hsi::ISCSI_OP_SCSI_TMFUNC:
        return PduKind::tmf;
      case hsi::ISCSI_OP_NOOP_OUT:
        return PduKind::nop_out;
      case hsi::ISCSI_OP_LOGOUT:
        return PduKind::logout;
      case hsi::ISCSI_OP_TEXT:
        return PduKind::text;
      default:
        return PduKind::login;
    }
  }

  void answer(kern::KPtr<IscsiConn> conn, const IscsiRsp& rsp, std::uint32_t lun, bool scsi) {
    pending_.push_back(Pending{kern::Kernel::now_ns() + latency.ns, conn, rsp, lun, scsi});
    ev_.notify(sc_core::SC_ZERO_TIME);
  }

  // The target aborted the victim (ABORT TASK) or the LUN's / target's tasks (resets).
  void drop_victims(kern::KPtr<IscsiConn> conn, const IscsiHdr& tmf) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      const bool hit = it->conn == conn && it->scsi &&
                       ((tmf.tm_function == hsi::ISCSI_TM_FUNC_ABORT_TASK && it->rsp.itt == tmf.rtt) ||
                        (tmf.tm_function == hsi::ISCSI_TM_FUNC_LOGICAL_UNIT_RESET && it->lun == tmf.lun) ||
                        tmf.tm_function == hsi::ISCSI_TM_FUNC_TARGET_WARM_RESET);
      it = hit ? pending_.erase(it) : std::next(it);
    }
  }

  void drop_conn(kern::KPtr<IscsiConn> conn) {
    for (auto it = pending_.begin(); it != pending_.end();) it = it->conn == conn ? pending_.erase(it) : std::next(it);
  }

  void io_thread() {
    for (;;) {
      if (pending_.empty()) {
        kern::wait_on(ev_);
        continue;
      }
      const std::int64_t now = kern::Kernel::now_ns();
      if (pending_.front().due > now) {
        kern::wait_on(ev_, Duration{pending_.front().due - now});
        continue;
      }
      Pending p = pending_.front();
      pending_.pop_front();
      if (!p.conn.valid()) continue;  // conn gone: the CQE is dropped ("Session no longer exists")
      kern::KFunc f("fake_process_cqe");
      IscsiSession& s = *p.conn.raw()->session.raw();
      kern::Guard back(s.back_lock);
      try {
        __iscsi_complete_pdu(p.conn, p.rsp);
      } catch (const kern::AbandonCall&) {
      }
    }
  }

  std::deque<Pending> pending_;  // due times are non-decreasing: one latency for all
  sc_core::sc_event ev_;
  std::unique_ptr<kern::KThread> io_;
  kern::Slab<QediEndpoint> eps_;
};

}  // namespace qedisim::drv::test
