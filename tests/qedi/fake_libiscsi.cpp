#include "tests/qedi/fake_libiscsi.h"

#include <fmt/format.h>

#include "hba_model/hsi/qedi_hsi.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/libiscsi/transport_iscsi.h"

namespace qedisim::drv {

using kern::KPtr;

namespace fake {

Lib& lib() {
  static Lib l;
  return l;
}

KPtr<IscsiSession> new_session(std::uint32_t id, std::uint32_t cmds_max) {
  KPtr<IscsiSession> s = lib().sessions.alloc(fmt::format("s{}", id));
  KWR(s, id) = id;
  KWR(s, cmds) = std::make_unique<kern::Pool<IscsiTask>>(cmds_max);
  KWR(s, cmds_max) = cmds_max;
  KWR(s, state) = SessionState::LOGGED_IN;
  KPtr<IscsiConn> c = lib().conns.alloc(fmt::format("s{}c0", id));
  KWR(c, session) = s;
  KWR(s, leadconn) = c;
  driver().sessions.push_back(s);
  return s;
}

namespace {
KPtr<IscsiTask> alloc_task(KPtr<IscsiSession> s) {
  KPtr<IscsiTask> t = KRD(s, cmds)->alloc("task");
  const std::uint32_t idx = KRD(s, cmds)->index_of(t);
  KWR(t, itt) = idx;
  KWR(t, conn) = KRD(s, leadconn);
  KWR(t, state) = TaskState::RUNNING;
  KWR(t, refcount) = 1;
  KWR(t, hdr).itt = build_itt(idx, KRD(s, age));
  KWR(t, hdr_itt) = KRD(t, hdr).itt;
  return t;
}
}  // namespace

KPtr<IscsiTask> new_scsi_task(KPtr<IscsiSession> s, std::uint32_t lun, std::uint32_t cpu) {
  KPtr<IscsiTask> t = alloc_task(s);
  KPtr<ScsiCmnd> sc = lib().cmnds.alloc("sc");
  KWR(sc, lun) = lun;
  KWR(sc, cpu) = cpu;
  KWR(sc, size) = 4096;
  KWR(sc, task) = t;
  KWR(sc, scp_phase) = KRD(s, age);
  KWR(t, sc) = sc;
  KWR(t, hdr).opcode = hsi::ISCSI_OP_SCSI_CMD;
  KWR(t, hdr).lun = lun;
  return t;
}

KPtr<IscsiTask> new_tmf_task(KPtr<IscsiSession> s, std::uint8_t function, KPtr<IscsiTask> victim, std::uint32_t lun) {
  KPtr<IscsiTask> t = alloc_task(s);
  KWR(t, hdr).opcode = hsi::ISCSI_OP_SCSI_TMFUNC;
  KWR(t, hdr).tm_function = function;
  KWR(t, hdr).lun = victim ? KRD(victim, hdr).lun : lun;
  KWR(t, hdr).rtt = victim ? KRD(victim, hdr_itt) : RESERVED_ITT;
  return t;
}

}  // namespace fake

// iscsi_free_task: the last put (the real task references and lookups are
// linked from host_driver_model/libiscsi/libiscsi_task.cpp). No scsi-ml here:
// the task goes back to the pool and its command is dropped.
void iscsi_free_task(KPtr<IscsiTask> task) {
  kern::KFunc f("iscsi_free_task");
  driver().transport->cleanup_task(task);
  KWR(task, state) = TaskState::FREE;
  KWR(task, sc) = nullptr;
  KRD(KRD(KRD(task, conn), session), cmds)->free(task);
}

void __iscsi_complete_pdu(KPtr<IscsiConn> conn, const IscsiRsp& rsp) {
  fake::lib().completed.push_back({rsp.opcode, rsp.itt, rsp.response, rsp.status});
  if (rsp.itt == RESERVED_ITT) return;
  KPtr<IscsiTask> task =
      rsp.opcode == hsi::ISCSI_OP_SCSI_CMD_RSP ? iscsi_itt_to_ctask(conn, rsp.itt) : iscsi_itt_to_task(conn, rsp.itt);
  if (!task || KRD(task, state) != TaskState::RUNNING) return;
  KWR(task, state) = TaskState::COMPLETED;
  __iscsi_put_task(task);
}

void iscsi_conn_failure(KPtr<IscsiConn> /*conn*/, int err) {
  fake::lib().calls.push_back(fmt::format("iscsi_conn_failure {}", err));
}
void iscsi_suspend_queue(KPtr<IscsiConn> conn) {
  fake::lib().calls.push_back("iscsi_suspend_queue");
  KWR(conn, suspend_tx) = true;
}
void iscsi_conn_start(KPtr<IscsiConn> conn) { KWR(conn, c_stage) = ConnStage::STARTED; }
void iscsi_conn_teardown(KPtr<IscsiConn> /*conn*/) {}
KPtr<IscsiConn> iscsi_conn_setup(KPtr<IscsiSession> session, std::uint32_t conn_idx) {
  KPtr<IscsiConn> c = fake::lib().conns.alloc(fmt::format("s{}c{}", KRD(session, id), conn_idx));
  KWR(c, session) = session;
  return c;
}
void iscsi_session_teardown(KPtr<IscsiSession> /*session*/) {}
void iscsi_block_session(KPtr<IscsiSession> /*session*/, std::string_view caller) {
  fake::lib().calls.push_back(fmt::format("block {}", caller));
}
void iscsi_unblock_session(KPtr<IscsiSession> /*session*/, std::string_view caller) {
  fake::lib().calls.push_back(fmt::format("unblock {}", caller));
}

}  // namespace qedisim::drv
