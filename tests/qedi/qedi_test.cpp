// The qedi model against the real HBA (and, where a case says so, the real
// target), with a minimal libiscsi. One SystemC elaboration per process:
// CTest runs each case alone (--run_test=<case>).
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "hba_model/hba.h"
#include "hba_model/host_memory.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/alloc.h"
#include "host_driver_model/qedi/qedi.h"
#include "sim/failpoints/failpoints.h"
#include "sim/target/iscsi_target.h"
#include "tests/qedi/fake_libiscsi.h"

namespace qedisim::drv {
// Runs single kernel functions of the driver from a test context.
struct QediTestAccess {
  static int cleanup_all_io(Qedi& q, kern::KPtr<IscsiConn> conn) {
    kern::KFunc f("qedi_tmf_resp_work");
    return q.qedi_cleanup_all_io(KWR(conn, dd_data), nullptr, true);
  }
  static void list_add(Qedi& q, kern::KPtr<IscsiConn> conn, kern::KPtr<IscsiTask> t) {
    q.active_list_add(KWR(conn, dd_data), t);
  }
  static void list_del(Qedi& q, kern::KPtr<IscsiConn> conn, kern::KPtr<IscsiTask> t) {
    kern::Guard g(KWR(conn, dd_data).list_lock);
    q.active_list_del(KWR(conn, dd_data), t);
  }
};
}  // namespace qedisim::drv

using namespace qedisim;
using namespace qedisim::drv;
using kern::KPtr;

namespace {

struct Rec : DriverObserver {
  int tid_clears = 0;
  int tid_double_clears = 0;
  int uafs = 0;
  int double_frees = 0;
  int null_derefs = 0;
  int cleanups_posted = 0;
  std::vector<std::uint16_t> aborts_sent;
  std::vector<std::string> allocs_failed;
  std::vector<std::int64_t> barriers;  // ns
  std::vector<std::int64_t> disconnects_returned;
  void tid_cleared(std::uint16_t, bool ok) override { ok ? ++tid_clears : ++tid_double_clears; }
  void use_after_free(const kern::ObjectHeader&, std::uint32_t, kern::AccessKind, std::string_view) override { ++uafs; }
  void double_free(const kern::ObjectHeader&, std::uint32_t) override { ++double_frees; }
  void null_deref(std::string_view, std::string_view) override { ++null_derefs; }
  void cleanup_posted(std::uint16_t, KPtr<IscsiTask>) override { ++cleanups_posted; }
  void abort_sent(std::uint16_t tid, KPtr<IscsiTask>) override { aborts_sent.push_back(tid); }
  void alloc_failed(Gfp gfp, std::string_view site, bool could_sleep, long) override {
    allocs_failed.push_back(fmt::format("{} {} {}", to_string(gfp), site, could_sleep));
  }
  void ep_disconnect_barrier(KPtr<IscsiConn>) override { barriers.push_back(kern::Kernel::now_ns()); }
  void ep_disconnect_returned(KPtr<IscsiConn>) override { disconnects_returned.push_back(kern::Kernel::now_ns()); }
};

Failpoint fp(std::string point, FailAction::Kind kind, Duration delay = {}) {
  Failpoint f;
  f.point = std::move(point);
  f.action.kind = kind;
  f.action.delay = delay;
  return f;
}

struct World {
  Rec rec;
  ModelParams params;
  std::unique_ptr<Failpoints> failpoints;
  std::unique_ptr<kern::Kernel> kernel;
  std::unique_ptr<hba::HostMemory> mem;
  std::unique_ptr<hba::Hba> hba;
  std::unique_ptr<target::IscsiTarget> target;
  std::unique_ptr<kern::IoMem> iomem;
  std::unique_ptr<kern::MsixController> msix;
  std::unique_ptr<Qedi> qedi;
  std::vector<std::unique_ptr<kern::Context>> contexts;

  World(FixSet fixes, std::vector<Failpoint> fps = {}, bool with_target = false, unsigned portals = 1,
        void (*tune)(ModelParams&) = nullptr) {
    sc_core::sc_set_time_resolution(1, sc_core::SC_NS);  // the model runs at 1 ns
    if (tune) tune(params);
    failpoints = std::make_unique<Failpoints>(std::move(fps), std::vector<Action>{});
    kernel = std::make_unique<kern::Kernel>(failpoints.get(), &rec, 1, Duration{});
    driver().params = &params;
    driver().fixes = fixes;
    driver().probes = &rec;
    mem = std::make_unique<hba::HostMemory>("mem");
    hba = std::make_unique<hba::Hba>("hba", hba::FirmwareConfig::from(params), failpoints.get());
    iomem = std::make_unique<kern::IoMem>("iomem");
    msix = std::make_unique<kern::MsixController>("msix", static_cast<unsigned>(params.hba_cpus) + 1);
    hba->dma.bind(mem->socket);
    iomem->socket.bind(hba->mmio);
    hba->msix.bind(*msix);
    if (with_target) {
      target::TargetConfig tc;
      tc.luns_per_portal.assign(portals, 2);
      target = std::make_unique<target::IscsiTarget>("target", tc, failpoints.get());
      hba->bind_target(*target);
      target->bind_initiator(*hba);
    }
    qedi = std::make_unique<Qedi>("qedi", QediParams::from(params, params), *mem, *iomem, *msix);
    driver().transport = qedi.get();
  }

  template <typename F>
  void thread(const char* name, F body) {
    contexts.push_back(std::make_unique<kern::Context>(name));
    kern::Context* c = contexts.back().get();
    sc_core::sc_spawn([this, c, body] {
      kernel->set_current(c);
      try {
        body();
      } catch (const kern::AbandonCall&) {
      }
    });
  }

  // iscsid: ep_connect, bind, start_conn for a new session.
  KPtr<IscsiSession> login(std::uint32_t id) {
    KPtr<IscsiSession> s = fake::new_session(id);
    KPtr<IscsiConn> c = KRD(s, leadconn);
    KPtr<QediEndpoint> ep = qedi->ep_connect(id);
    BOOST_REQUIRE(!ep.is_null());
    KWR(c, ep) = ep;
    BOOST_REQUIRE(qedi->bind_conn(c, ep) == 0);
    qedi->start_conn(c);
    return s;
  }
};

FixSet all_but(std::initializer_list<Patch> off) {
  FixSet f = FixSet::all();
  for (Patch p : off) f.set(p, false);
  return f;
}

void run(double seconds) { sc_core::sc_start(sc_core::sc_time(seconds, sc_core::SC_SEC)); }
std::uint32_t tid_of(KPtr<IscsiTask> t) { return t.raw()->dd_data.task_id; }

}  // namespace

// ---- tid allocator -----------------------------------------------------------

// qedi_get_task_idx: lowest free tid first, a freed tid goes to the next request; with
// p09 the tid is freed only at the last put.
BOOST_AUTO_TEST_CASE(tid_allocator_hands_out_the_lowest_free_tid_and_frees_at_last_put) {
  World w(FixSet::all());
  std::vector<std::uint32_t> tids;
  w.thread("queue/cpu0", [&] {
    KPtr<IscsiSession> s = w.login(0);
    KPtr<IscsiTask> a = fake::new_scsi_task(s, 0), b = fake::new_scsi_task(s, 0), c = fake::new_scsi_task(s, 0);
    w.qedi->xmit_task(a);
    w.qedi->xmit_task(b);
    tids = {tid_of(a), tid_of(b)};
    iscsi_put_task(a);  // failed by libiscsi: last put, qedi_cleanup_task frees tid 1
    w.qedi->xmit_task(c);
    tids.push_back(tid_of(c));
    iscsi_put_task(b);
    iscsi_put_task(c);
    tids.push_back(w.qedi->tids_in_use());
  });
  run(1);
  BOOST_TEST(tids == (std::vector<std::uint32_t>{1, 2, 1, 0}), boost::test_tools::per_element());
  BOOST_TEST(w.rec.tid_double_clears == 0);
}

// qedi_session_create: a session's task pool is at most the SQ's entries
// (qedi->max_sqes), else at least QEDI_SQ_WQES_MIN, whatever iscsid asks.
BOOST_AUTO_TEST_CASE(session_create_sizes_the_pool_by_the_sq) {
  World w(FixSet::all(), {}, false, 1, [](ModelParams& p) { p.hba_sq_depth = 64; });
  BOOST_TEST(w.qedi->session_cmds_max(4096) == 64u);
  BOOST_TEST(w.qedi->session_cmds_max(65) == 64u);
  BOOST_TEST(w.qedi->session_cmds_max(64) == 64u);
  BOOST_TEST(w.qedi->session_cmds_max(32) == 32u);
  BOOST_TEST(w.qedi->session_cmds_max(16) == 16u);
  BOOST_TEST(w.qedi->session_cmds_max(1) == 16u);
}

// ---- SCSI IO against the real HBA and target ---------------------------------

BOOST_AUTO_TEST_CASE(scsi_io_round_trip_completes_through_libiscsi) {
  World w(FixSet::all(), {}, true);
  w.thread("queue/cpu1", [&] {
    KPtr<IscsiSession> s = w.login(0);
    for (int i = 0; i < 4; ++i) w.qedi->xmit_task(fake::new_scsi_task(s, i % 2, static_cast<std::uint32_t>(i)));
  });
  run(1);
  BOOST_TEST(fake::lib().completed.size() == 4u);
  for (const auto& c : fake::lib().completed) BOOST_TEST(c.opcode == hsi::ISCSI_OP_SCSI_CMD_RSP);
  BOOST_TEST(w.qedi->tids_in_use() == 0u);
  BOOST_TEST(w.rec.uafs == 0);
}

// hba.remove: __qedi_remove frees the IRQs right after clearing the sessions
// (qedi_sync_free_irqs), so no firmware event reaches a connection the
// removal freed without disconnecting its endpoint (a session not online:
// qedi_clear_session_ctx skips qedi_ep_disconnect). Found by swarm: a TCP
// error after the removal reached iscsi_conn_failure on a freed conn.
BOOST_AUTO_TEST_CASE(no_event_reaches_the_driver_after_hba_remove) {
  World w(FixSet::all(), {}, true);
  w.thread("pci/remove", [&] {
    KPtr<IscsiSession> s = w.login(0);
    s.raw()->cls_state = ClsSessionState::FAILED;  // not online: the ep stays
    w.qedi->qedi_shutdown();
  });
  run(0.1);
  w.hba->link_down(0);
  run(1);
  for (const auto& c : fake::lib().calls) BOOST_TEST(c.rfind("iscsi_conn_failure", 0) != 0, c);
}

// ---- bulk cleanup branch of qedi_process_cmd_cleanup_resp: the tid is cleared in the CQE handler
// iff !p17 && (!p09 || p10); with p09 qedi_cleanup_task clears it again ----

namespace {
// Three commands on LUN 0 of session 0, sent to the driver.
std::vector<KPtr<IscsiTask>> send_three_commands(World& w, KPtr<IscsiSession> s) {
  std::vector<KPtr<IscsiTask>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(fake::new_scsi_task(s, 0));
    w.qedi->xmit_task(tasks.back());
  }
  return tasks;
}

void bulk_cleanup_case(FixSet fixes, int handler_clears, int double_clears) {
  World w(fixes);  // no target: the commands stay outstanding in firmware
  int rval = -2;
  w.thread("tmf_wq/host0", [&] {
    KPtr<IscsiSession> s = w.login(0);
    const std::vector<KPtr<IscsiTask>> tasks = send_three_commands(w, s);
    rval = QediTestAccess::cleanup_all_io(*w.qedi, KRD(s, leadconn));
    BOOST_TEST(w.rec.tid_clears == handler_clears);
    for (auto& t : tasks) iscsi_put_task(t);  // fail_scsi_tasks after the reset
  });
  run(20);
  BOOST_TEST(rval == 0);
  BOOST_TEST(w.rec.cleanups_posted == 3);
  BOOST_TEST(w.rec.tid_double_clears == double_clears);
}
}  // namespace

BOOST_AUTO_TEST_CASE(bulk_cleanup_with_p17_leaves_the_tid_to_cleanup_task) { bulk_cleanup_case(FixSet::all(), 0, 0); }
BOOST_AUTO_TEST_CASE(bulk_cleanup_p01_to_p16_frees_each_tid_twice) { bulk_cleanup_case(all_but({Patch::p17}), 3, 3); }
BOOST_AUTO_TEST_CASE(bulk_cleanup_p09_without_p10_does_not_clear) {
  bulk_cleanup_case(all_but({Patch::p10, Patch::p17}), 0, 0);
}
BOOST_AUTO_TEST_CASE(bulk_cleanup_before_p09_clears_once_in_the_handler) { bulk_cleanup_case(FixSet::none(), 3, 0); }

// qedi_cleanup_all_io unlinks each command and clears io_cmd_in_list (5.12,
// "scsi: qedi: Fix list_del corruption while removing active I/O"), so a late
// response handler leaves the list and active_cmd_count alone.
BOOST_AUTO_TEST_CASE(bulk_cleanup_unlinks_and_clears_io_cmd_in_list) {
  World w(FixSet::all());
  w.thread("tmf_wq/host0", [&] {
    KPtr<IscsiSession> s = w.login(0);
    const std::vector<KPtr<IscsiTask>> tasks = send_three_commands(w, s);
    const KPtr<IscsiConn> conn = KRD(s, leadconn);
    BOOST_TEST(conn.raw()->dd_data.active_cmd_count == 3u);
    QediTestAccess::cleanup_all_io(*w.qedi, conn);
    BOOST_TEST(conn.raw()->dd_data.active_cmd_count == 0u);
    BOOST_TEST(conn.raw()->dd_data.active_cmd_list.empty());
    for (auto& t : tasks) {
      BOOST_TEST(!t.raw()->dd_data.io_cmd_in_list);
      iscsi_put_task(t);
    }
  });
  run(20);
}

// active_list_del unlinks a task wherever it is on the list. The model's
// list is a vector: a task added twice (a second list_add_tail, which
// corrupts the kernel's list) is there twice, and one removal takes out
// both copies, leaving the other tasks in their order.
BOOST_AUTO_TEST_CASE(active_list_del_removes_every_copy_and_keeps_the_order) {
  World w(FixSet::all());
  w.thread("tmf_wq/host0", [&] {
    KPtr<IscsiSession> s = w.login(0);
    const KPtr<IscsiConn> conn = KRD(s, leadconn);
    const KPtr<IscsiTask> a = fake::new_scsi_task(s, 0), b = fake::new_scsi_task(s, 0), c = fake::new_scsi_task(s, 0);
    for (const KPtr<IscsiTask>& t : {a, b, a, c}) QediTestAccess::list_add(*w.qedi, conn, t);
    const auto& list = conn.raw()->dd_data.active_cmd_list;
    BOOST_TEST(list.size() == 4u);
    QediTestAccess::list_del(*w.qedi, conn, a);  // twice on the list
    BOOST_TEST((list == std::vector<KPtr<IscsiTask>>{b, c}));
    QediTestAccess::list_del(*w.qedi, conn, c);  // once, at the end
    BOOST_TEST((list == std::vector<KPtr<IscsiTask>>{b}));
    QediTestAccess::list_del(*w.qedi, conn, c);  // not on the list: nothing changes
    BOOST_TEST((list == std::vector<KPtr<IscsiTask>>{b}));
    for (const KPtr<IscsiTask>& t : {a, b, c}) iscsi_put_task(t);
  });
  run(1);
}

// ---- abort path -----------------------------------------------------------

namespace {
// A victim on session 0 that the target never answers, then its ABORT TASK.
void abort_case(World& w, KPtr<IscsiTask>* victim_out = nullptr, KPtr<IscsiTask>* mtask_out = nullptr) {
  w.thread("eh/host0", [&w, victim_out, mtask_out] {
    KPtr<IscsiSession> s = w.login(0);
    KPtr<IscsiTask> v = fake::new_scsi_task(s, 0);
    w.qedi->xmit_task(v);
    kern::sleep_for(Duration::from_ms(10));
    __iscsi_get_task(v);  // EH's reference
    KPtr<IscsiTask> m = fake::new_tmf_task(s, hsi::ISCSI_TM_FUNC_ABORT_TASK, v);
    w.qedi->xmit_task(m);
    if (victim_out) *victim_out = v;
    if (mtask_out) *mtask_out = m;
  });
}
}  // namespace

// p11: before it the abort work takes a tid and send_iscsi_tmf takes another.
BOOST_AUTO_TEST_CASE(p11_abort_takes_two_tids_before_and_one_after) {
  World w(FixSet::all());
  abort_case(w);
  run(1);
  BOOST_TEST(w.rec.aborts_sent.size() == 1u);
  BOOST_TEST(w.rec.cleanups_posted == 1);
  BOOST_TEST(w.qedi->tids_in_use() == 2u);  // victim + the ABORT's one tid
}
BOOST_AUTO_TEST_CASE(p11_reverted_abort_leaks_a_second_tid) {
  World w(all_but({Patch::p11}));
  abort_case(w);
  run(1);
  BOOST_TEST(w.rec.aborts_sent.size() == 1u);
  BOOST_TEST(w.qedi->tids_in_use() == 3u);  // victim + two for the ABORT
}

// p12: the work-map allocation is GFP_ATOMIC before, GFP_NOIO after; an
// atomic-only mem.alloc failure drops the abort only in the old build.
namespace {
std::vector<Failpoint> atomic_abort_alloc_fails() {
  Failpoint f = fp("mem.alloc", FailAction::Kind::fail);
  f.match.gfp = Gfp::atomic;
  f.match.site = "qedi_abort_work";
  return {f};
}
}  // namespace
BOOST_AUTO_TEST_CASE(p12_reverted_atomic_work_map_allocation_fails_and_no_cleanup_is_sent) {
  World w(all_but({Patch::p12}), atomic_abort_alloc_fails());
  abort_case(w);
  run(1);
  BOOST_TEST(w.rec.allocs_failed == (std::vector<std::string>{"atomic qedi_abort_work true"}),
             boost::test_tools::per_element());
  BOOST_TEST(w.rec.cleanups_posted == 0);
  BOOST_TEST(w.rec.aborts_sent.empty());
}
BOOST_AUTO_TEST_CASE(p12_noio_work_map_allocation_is_not_hit) {
  World w(FixSet::all(), atomic_abort_alloc_fails());
  abort_case(w);
  run(1);
  BOOST_TEST(w.rec.allocs_failed.empty());
  BOOST_TEST(w.rec.aborts_sent.size() == 1u);
}
BOOST_AUTO_TEST_CASE(sleeping_allocation_in_atomic_context_is_a_modelling_error) {
  World w(FixSet::all());
  bool threw = false, atomic_ok = false;
  w.thread("irq/v0", [&] {
    kern::Kernel::get().current().set_atomic();
    atomic_ok = kern::kmalloc_admit(Gfp::atomic, "qedi_queue_cqe");
    try {
      kern::kmalloc_admit(Gfp::noio, "qedi_abort_work");
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  run(0.001);
  BOOST_TEST(atomic_ok);
  BOOST_TEST(threw);
}

// p13 and p14: qedi code must leave the session's block/unblock to libiscsi.
namespace {
std::vector<std::string> block_calls() {
  std::vector<std::string> out;
  for (const auto& c : fake::lib().calls)
    if (c.rfind("block ", 0) == 0 || c.rfind("unblock ", 0) == 0) out.push_back(c);
  return out;
}
// An LU reset answered by the target: qedi_tmf_resp_work runs the bulk cleanup.
void lu_reset_case(World& w) {
  w.thread("eh/host0", [&w] {
    KPtr<IscsiSession> s = w.login(0);
    w.qedi->xmit_task(fake::new_tmf_task(s, hsi::ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, nullptr, 0));
  });
}
// Session 0's bulk cleanup waits past qedi.cleanup_wait (its one cleanup
// takes 6 s), so qedi_cleanup_all_io drains the host, marking every session.
void slow_bulk_cleanup_case(World& w) {
  w.thread("tmf_wq/host0", [&w] {
    KPtr<IscsiSession> s0 = w.login(0);
    w.login(1);
    KPtr<IscsiTask> t = fake::new_scsi_task(s0, 0);
    w.qedi->xmit_task(t);
    QediTestAccess::cleanup_all_io(*w.qedi, KRD(s0, leadconn));
    iscsi_put_task(t);
  });
}
}  // namespace
BOOST_AUTO_TEST_CASE(p13_reverted_reset_response_work_blocks_and_unblocks_the_session) {
  World w(all_but({Patch::p13}), {}, true);
  lu_reset_case(w);
  run(1);
  BOOST_TEST(block_calls() == (std::vector<std::string>{"block qedi_tmf_resp_work", "unblock qedi_tmf_resp_work"}),
             boost::test_tools::per_element());
}
BOOST_AUTO_TEST_CASE(p13_reset_response_work_leaves_the_session_state_alone) {
  World w(FixSet::all(), {}, true);
  lu_reset_case(w);
  run(1);
  BOOST_TEST(block_calls().empty());
  BOOST_TEST(fake::lib().completed.size() == 1u);  // the LU reset response went up
}
BOOST_AUTO_TEST_CASE(p14_reverted_drain_blocks_and_unblocks_every_session) {
  World w(all_but({Patch::p14}), {fp("fw.cleanup", FailAction::Kind::delay, Duration::from_s(6))});
  slow_bulk_cleanup_case(w);
  run(20);
  BOOST_TEST(block_calls() ==
                 (std::vector<std::string>{"block qedi_mark_device_missing", "block qedi_mark_device_missing",
                                           "unblock qedi_mark_device_available", "unblock qedi_mark_device_available"}),
             boost::test_tools::per_element());
}
BOOST_AUTO_TEST_CASE(p14_drain_uses_the_host_flag_not_the_sessions) {
  World w(FixSet::all(), {fp("fw.cleanup", FailAction::Kind::delay, Duration::from_s(6))});
  slow_bulk_cleanup_case(w);
  run(20);
  BOOST_TEST(block_calls().empty());
  BOOST_TEST(w.rec.cleanups_posted == 1);
}

// p04: before it qedi_ep_disconnect suspends the queue itself; after it
// libiscsi's unbind_conn (iscsi_suspend_queue) has done so before iscsid
// calls ep_disconnect, and the driver's call is gone.
namespace {
std::vector<std::string> disconnect_calls(FixSet fixes) {
  World w(fixes);
  w.thread("iscsid", [&w] {
    KPtr<IscsiSession> s = w.login(0);
    w.qedi->ep_disconnect(KRD(KRD(s, leadconn), dd_data).ep);
  });
  run(5);
  return fake::lib().calls;
}
}  // namespace
BOOST_AUTO_TEST_CASE(p04_reverted_ep_disconnect_suspends_the_queue_itself) {
  const auto calls = disconnect_calls(all_but({Patch::p04}));
  BOOST_TEST(std::count(calls.begin(), calls.end(), "iscsi_suspend_queue") == 1);
}
BOOST_AUTO_TEST_CASE(p04_ep_disconnect_leaves_the_suspend_to_libiscsi) {
  const auto calls = disconnect_calls(FixSet::all());
  BOOST_TEST(std::count(calls.begin(), calls.end(), "iscsi_suspend_queue") == 0);
}

// p15: the ABORT TASK's RTT names the victim's tid, from the task the abort
// work pinned (after) or a second lookup of the RTT (before): the same task
// here, so the same tid either way.
namespace {
void abort_names_the_victim(FixSet fixes) {
  World w(fixes);
  KPtr<IscsiTask> v;
  abort_case(w, &v);
  std::uint32_t victim_tid = 0;
  w.thread("check", [&] {
    kern::sleep_for(Duration::from_ms(11));  // abort_case hands the victim out at 10 ms
    victim_tid = tid_of(v);
  });
  run(1);
  BOOST_REQUIRE(w.rec.aborts_sent.size() == 1u);
  BOOST_TEST(victim_tid != 0u);  // tid 0 is never handed out
  BOOST_TEST(w.rec.aborts_sent[0] == victim_tid);
}
}  // namespace
BOOST_AUTO_TEST_CASE(p15_abort_rtt_names_the_victim_with_the_pinned_task) { abort_names_the_victim(FixSet::all()); }
BOOST_AUTO_TEST_CASE(p15_reverted_abort_rtt_names_the_victim_by_a_second_lookup) {
  abort_names_the_victim(all_but({Patch::p15}));
}

// p08: the victim's cleanup CQE lands just after qedi's 5 s cleanup wait,
// while the abort work is on its way to ldel_exit. The CQE handler frees the
// work map and clears list_tmf_work; before p08 ldel_exit's inverted check
// then deletes and frees it again.
namespace {
std::vector<Failpoint> cleanup_cqe_just_after_the_wait() {
  return {fp("fw.cleanup", FailAction::Kind::delay, Duration::from_ms(5050)),
          fp("qedi.abort_work.ldel_exit", FailAction::Kind::delay, Duration::from_ms(100))};
}
}  // namespace
BOOST_AUTO_TEST_CASE(p08_reverted_ldel_exit_frees_the_work_map_the_cqe_handler_freed) {
  World w(all_but({Patch::p08}), cleanup_cqe_just_after_the_wait());
  abort_case(w);
  run(10);
  BOOST_TEST(w.rec.cleanups_posted == 1);
  BOOST_TEST(w.rec.double_frees + w.rec.uafs >= 1);
}
BOOST_AUTO_TEST_CASE(p08_ldel_exit_leaves_the_work_map_the_cqe_handler_freed) {
  World w(FixSet::all(), cleanup_cqe_just_after_the_wait());
  abort_case(w);
  run(10);
  BOOST_TEST(w.rec.cleanups_posted == 1);
  BOOST_TEST(w.rec.double_frees == 0);
  BOOST_TEST(w.rec.uafs == 0);
  BOOST_TEST(w.rec.aborts_sent.empty());  // the cleanup wait timed out: no ABORT TASK
}

// The abort with the real target: victim's response dropped, ABORT answered
// COMPLETE; the TMF response goes up and nothing is left behind.
BOOST_AUTO_TEST_CASE(abort_work_happy_path_against_hba_and_target) {
  Failpoint drop = fp("target.scsi_rsp", FailAction::Kind::drop);
  Failpoint rsp = fp("target.tmf_rsp", FailAction::Kind::respond);
  rsp.action.respond = TmfRespond::complete;
  World w(FixSet::all(), {drop, rsp}, true);
  KPtr<IscsiTask> v, m;
  abort_case(w, &v, &m);
  bool tmf_seen = false;
  w.thread("eh-check", [&] {
    kern::sleep_for(Duration::from_ms(500));
    for (const auto& c : fake::lib().completed)
      if (c.opcode == hsi::ISCSI_OP_SCSI_TMFUNC_RSP && c.response == hsi::ISCSI_TMF_RSP_COMPLETE) tmf_seen = true;
    // iscsi_eh_abort on TMF_SUCCESS: fail_scsi_task drops the task's refs.
    iscsi_put_task(v);
    iscsi_put_task(v);
  });
  run(1);
  BOOST_TEST(tmf_seen);
  BOOST_TEST(w.rec.cleanups_posted == 1);
  BOOST_TEST(w.rec.aborts_sent.size() == 1u);
  BOOST_TEST(w.qedi->tids_in_use() == 0u);
  BOOST_TEST(w.rec.uafs == 0);
  BOOST_TEST(w.rec.double_frees == 0);
  BOOST_TEST(w.rec.tid_double_clears == 0);
}

// ---- ep_disconnect's wait for TMF works (p16) ---------------------------------

namespace {
// Session 1's abort work holds the ordered queue 3 s (its cleanup is slow);
// session 0's abort work is queued behind it when ep_disconnect(s0) starts.
void queued_abort_case(World& w) {
  w.thread("eh/host0", [&w] {
    KPtr<IscsiSession> s0 = w.login(0);
    KPtr<IscsiSession> s1 = w.login(1);
    KPtr<IscsiTask> v1 = fake::new_scsi_task(s1, 0), v0 = fake::new_scsi_task(s0, 0);
    w.qedi->xmit_task(v1);
    w.qedi->xmit_task(v0);
    kern::sleep_for(Duration::from_ms(10));
    __iscsi_get_task(v1);
    __iscsi_get_task(v0);
    w.qedi->xmit_task(fake::new_tmf_task(s1, hsi::ISCSI_TM_FUNC_ABORT_TASK, v1));
    w.qedi->xmit_task(fake::new_tmf_task(s0, hsi::ISCSI_TM_FUNC_ABORT_TASK, v0));
    kern::sleep_for(Duration::from_ms(100));
    w.qedi->ep_disconnect(KRD(KRD(s0, leadconn), dd_data).ep);
  });
}
std::vector<Failpoint> slow_first_cleanup() {
  Failpoint f = fp("fw.cleanup", FailAction::Kind::delay, Duration::from_s(3));
  f.match.nth.list = {1};
  return {f};
}
}  // namespace

BOOST_AUTO_TEST_CASE(ep_disconnect_before_p16_misses_a_queued_abort_work) {
  World w(all_but({Patch::p16}), slow_first_cleanup());
  queued_abort_case(w);
  run(10);
  BOOST_REQUIRE(w.rec.barriers.size() == 1u);
  BOOST_TEST(w.rec.barriers[0] < Duration::from_ms(200).ns);  // the bit was clear: no wait
  BOOST_TEST(w.rec.null_derefs >= 1);                         // the work meets qedi_conn->ep == NULL
}

BOOST_AUTO_TEST_CASE(ep_disconnect_p16_waits_for_the_queued_abort_work) {
  World w(FixSet::all(), slow_first_cleanup());
  queued_abort_case(w);
  run(10);
  BOOST_REQUIRE(w.rec.barriers.size() == 1u);
  BOOST_TEST(w.rec.barriers[0] > Duration::from_s(3).ns);
  BOOST_TEST(w.rec.null_derefs == 0);
  BOOST_TEST(w.rec.aborts_sent.size() == 2u);
}

BOOST_AUTO_TEST_CASE(ep_disconnect_before_p16_gives_up_after_max_polls) {
  World w(all_but({Patch::p16}), {fp("fw.cleanup", FailAction::Kind::delay, Duration::from_s(30))}, false, 1,
          [](ModelParams& p) { p.qedi_ep_disconnect_poll = Duration::from_ms(100); });
  w.thread("eh/host0", [&w] {
    KPtr<IscsiSession> s0 = w.login(0);
    KPtr<IscsiTask> v0 = fake::new_scsi_task(s0, 0);
    w.qedi->xmit_task(v0);
    kern::sleep_for(Duration::from_ms(10));
    __iscsi_get_task(v0);
    w.qedi->xmit_task(fake::new_tmf_task(s0, hsi::ISCSI_TM_FUNC_ABORT_TASK, v0));
    kern::sleep_for(Duration::from_ms(100));  // the work runs: QEDI_CONN_FW_CLEANUP set, 5 s cleanup wait
    w.qedi->ep_disconnect(KRD(KRD(s0, leadconn), dd_data).ep);
  });
  run(10);
  BOOST_REQUIRE(w.rec.barriers.size() == 1u);
  // 10 polls of 100 ms from 0.11 s; the work itself runs until ~5.1 s.
  BOOST_TEST(w.rec.barriers[0] >= Duration::from_ms(1100).ns);
  BOOST_TEST(w.rec.barriers[0] < Duration::from_ms(1300).ns);
}

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
