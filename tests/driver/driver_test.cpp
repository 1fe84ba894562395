// The Linux side (scsi-ml, libiscsi, scsi_transport_iscsi, iscsid) on a fake
// LLD/target. Each case forks one child per build it needs (SystemC
// elaborates once per process), so a case can compare a patch off and on.
#define BOOST_TEST_NO_MAIN
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <systemc>
#include <vector>

#include "host_driver_model/host_stack.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "sim/failpoints/failpoints.h"
#include "tests/driver/fake_transport.h"

using namespace qedisim;
using namespace qedisim::drv;

namespace {

// ---- what the probes saw ----------------------------------------------------

struct Recorder : DriverObserver {
  std::vector<std::string> uafs;   // "type field ctx fn"
  std::vector<std::string> trace;  // ordered probe events, for equivalence checks
  std::vector<std::string> other;  // double_free / null_deref
  std::int64_t ep_disc_entered = -1, unbind_at = -1;
  std::uint64_t scsi_xmit_after_ep_disc = 0, scsi_xmit_after_unbind = 0, xmit_scsi = 0;
  std::uint64_t abort_ok = 0, abort_failed = 0, did_abort_done = 0, abrt_tmf_ended = 0;

  static std::string ctx_fn() {
    auto& c = kern::Kernel::get().current();
    return fmt::format("{} {}", c.name(), c.function());
  }
  void use_after_free(const kern::ObjectHeader& h, std::uint32_t inc, kern::AccessKind,
                      std::string_view field) override {
    uafs.push_back(fmt::format("{} {} {}", h.describe(inc), field, ctx_fn()));
  }
  void double_free(const kern::ObjectHeader& h, std::uint32_t inc) override {
    other.push_back(fmt::format("double_free {} {}", h.describe(inc), ctx_fn()));
  }
  void null_deref(std::string_view owner, std::string_view field) override {
    other.push_back(fmt::format("null_deref {}.{} {}", owner, field, ctx_fn()));
  }
  void ev(const std::string& s) { trace.push_back(fmt::format("{} {}", kern::Kernel::now_ns(), s)); }
  void xmit_entry(kern::KPtr<IscsiConn> conn, PduKind kind) override {
    ev(fmt::format("xmit {} {}", conn.describe(), static_cast<int>(kind)));
    if (kind != PduKind::scsi_cmd) return;
    xmit_scsi++;
    if (ep_disc_entered >= 0) scsi_xmit_after_ep_disc++;
    if (unbind_at >= 0) scsi_xmit_after_unbind++;
  }
  void unbind_returned(kern::KPtr<IscsiConn> conn) override {
    unbind_at = kern::Kernel::now_ns();
    ev("unbind_returned " + conn.describe());
  }
  void ep_disconnect_entered(kern::KPtr<IscsiConn> conn) override {
    ep_disc_entered = kern::Kernel::now_ns();
    ev("ep_disconnect " + conn.describe());
  }
  void task_ended(kern::KPtr<IscsiTask> task, std::string_view how) override {
    if (how == "ABRT_TMF") abrt_tmf_ended++;
    ev(fmt::format("task_ended {} {}", task.describe(), how));
  }
  void task_freed(kern::KPtr<IscsiTask> task) override { ev("task_freed " + task.describe()); }
  void scsi_done(kern::KPtr<ScsiCmnd> cmd) override {
    if (host_byte(cmd.raw()->result) == DID_ABORT) did_abort_done++;
    ev(fmt::format("scsi_done {} issue {} result {:#x}", cmd.describe(), cmd.raw()->issue, cmd.raw()->result));
  }
  void abort_end(kern::KPtr<ScsiCmnd>, bool success) override { (success ? abort_ok : abort_failed)++; }
  void escalation(kern::KPtr<ScsiCmnd> cmd, EhLevel level) override {
    ev(fmt::format("escalation {} {}", cmd.describe(), to_string(level)));
  }
  void session_change(kern::KPtr<IscsiSession> s, SessionChange c, std::string_view caller) override {
    ev(fmt::format("session_change {} {} {}", s.describe(), static_cast<int>(c), caller));
  }
};

// ---- one simulated run --------------------------------------------------------

struct Stream {
  std::uint32_t session = 0, lun = 0;
  std::uint64_t ops = 1;
  std::uint32_t depth = 1;
  Duration start{};
  OpKind op = OpKind::read;
};

struct Setup {
  FixSet fixes = FixSet::all();
  ModelParams params;
  std::vector<SessionSpec> sessions{SessionSpec{}};
  std::vector<Stream> streams;
  std::vector<Failpoint> failpoints;
  std::vector<std::pair<Duration, Action>> actions;
  Duration stop_at = Duration::from_s(5);
  std::function<void(test::FakeTransport&)> tune;
  std::function<void(HostStack&)> tune_stack;
};

Failpoint hold(const std::string& point, std::uint64_t nth, Duration d) {
  Failpoint fp;
  fp.point = point;
  fp.match.nth.list = {nth};
  fp.action.kind = FailAction::Kind::delay;
  fp.action.delay = d;
  return fp;
}

Action act(ActionKind k, std::uint32_t session = 0) {
  Action a;
  a.kind = k;
  a.args.session = session;
  return a;
}

using Summary = std::map<std::string, std::string>;

// Runs `s` in a forked child and returns what it reported.
Summary run(const Setup& s) {
  int fd[2];
  BOOST_REQUIRE(pipe(fd) == 0);
  const pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fd[0]);
    std::ostringstream out;
    {
      auto rec = std::make_unique<Recorder>();
      auto fps = std::make_unique<Failpoints>(s.failpoints, std::vector<Action>{});
      auto kernel = std::make_unique<kern::Kernel>(fps.get(), rec.get(), 1, Duration{});
      auto fake = std::make_unique<test::FakeTransport>("fake");
      if (s.tune) s.tune(*fake);
      std::vector<NodeConfig> nodes;
      for (const auto& spec : s.sessions) nodes.push_back(NodeConfig{spec.luns, spec.cmds_max.value_or(0)});
      auto stack = std::make_unique<HostStack>("host", s.params, static_cast<unsigned>(s.params.hba_cpus), s.fixes,
                                               *rec, *fake, nodes);
      if (s.tune_stack) s.tune_stack(*stack);
      struct Live {
        Stream st;
        std::uint32_t idx = 0;
        std::uint64_t issued = 0, done = 0, ok = 0;
      };
      std::vector<std::unique_ptr<Live>> live;
      std::vector<std::unique_ptr<kern::KThread>> threads;
      for (std::uint32_t i = 0; i < s.streams.size(); ++i) {
        live.push_back(std::make_unique<Live>());
        Live* l = live.back().get();
        l->st = s.streams[i];
        l->idx = i;
        auto issue = std::make_shared<std::function<void()>>();
        *issue = [l, issue, st = stack.get(), cpus = s.params.hba_cpus] {
          if (l->issued >= l->st.ops) return;
          IoRequest rq;
          rq.stream = l->idx;
          rq.op_index = l->issued++;
          rq.session = l->st.session;
          rq.lun = l->st.lun;
          rq.op = l->st.op;
          rq.cpu = static_cast<std::uint32_t>(l->idx % cpus);
          st->submit(rq, [l, issue](int result) {
            l->done++;
            if (result == 0) l->ok++;
            (*issue)();
          });
        };
        threads.push_back(std::make_unique<kern::KThread>(fmt::format("stream{}", i).c_str(), "workload", [l, issue] {
          kern::sleep_for(l->st.start);
          for (std::uint32_t d = 0; d < l->st.depth; ++d) (*issue)();
        }));
      }
      auto acts = s.actions;
      threads.push_back(std::make_unique<kern::KThread>("actions", "action", [acts, st = stack.get()] {
        for (const auto& [at, a] : acts) {
          const std::int64_t wait = at.ns - kern::Kernel::now_ns();
          if (wait > 0) kern::sleep_for(Duration{wait});
          st->run_action(a.kind, a.args);
        }
      }));
      sc_core::sc_start(kern::to_sc(s.stop_at));
      std::uint64_t done = 0, ok = 0;
      for (auto& l : live) {
        done += l->done;
        ok += l->ok;
      }
      out << "queue_rq=" << stack->scsi_queue_rq_calls() << "\n";
      out << "completed=" << stack->cmds_completed() << "\n";
      out << "failed=" << stack->cmds_failed() << "\n";
      out << "eh_max_level=" << to_string(stack->eh_max_level()) << "\n";
      out << "streams_done=" << done << "\nstreams_ok=" << ok << "\n";
      out << "quiescent=" << (stack->quiescent() ? 1 : 0) << "\n";
      for (std::size_t i = 0; i < driver().sessions.size(); ++i)
        if (driver().sessions[i]) out << "pool" << i << "=" << driver().sessions[i].raw()->cmds_max << "\n";
      out << "uafs=" << rec->uafs.size() << "\n";
      for (std::size_t i = 0; i < rec->uafs.size(); ++i) out << "uaf" << i << "=" << rec->uafs[i] << "\n";
      out << "others=" << rec->other.size() << "\n";
      for (std::size_t i = 0; i < rec->other.size(); ++i) out << "other" << i << "=" << rec->other[i] << "\n";
      out << "xmit_scsi=" << rec->xmit_scsi << "\n";
      out << "scsi_xmit_after_ep_disc=" << rec->scsi_xmit_after_ep_disc << "\n";
      out << "scsi_xmit_after_unbind=" << rec->scsi_xmit_after_unbind << "\n";
      out << "unbind_returned=" << rec->unbind_at << "\nep_disc_entered=" << rec->ep_disc_entered << "\n";
      out << "abort_ok=" << rec->abort_ok << "\nabort_failed=" << rec->abort_failed << "\n";
      out << "did_abort_done=" << rec->did_abort_done << "\nabrt_tmf_ended=" << rec->abrt_tmf_ended << "\n";
      std::string trace;
      for (const auto& t : rec->trace) trace += t + ";";
      out << "trace_len=" << rec->trace.size() << "\n";
      out << "trace=" << std::hash<std::string>{}(trace) << "\n";
    }
    const std::string str = out.str();
    if (write(fd[1], str.data(), str.size()) < 0) _exit(3);
    close(fd[1]);
    _exit(0);
  }
  close(fd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "simulation child failed:\n" << text);
  Summary m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

std::uint64_t num(const Summary& m, const std::string& k) { return std::stoull(m.at(k)); }

bool any_uaf_on(const Summary& m, const std::string& type) {
  for (std::uint64_t i = 0; i < num(m, "uafs"); ++i)
    if (m.at("uaf" + std::to_string(i)).rfind(type, 0) == 0) return true;
  return false;
}

FixSet all_but(Patch p) {
  FixSet f = FixSet::all();
  f.set(p, false);
  return f;
}

void dump(const char* what, const Summary& m) {
  BOOST_TEST_MESSAGE(what);
  for (const auto& [k, v] : m)
    if (k != "trace") BOOST_TEST_MESSAGE("  " << k << " = " << v);
}

// The abort scenario of p01: the target drops the first response; scsi.abort at 1s; ABORT answered.
Setup abort_setup(FixSet fixes) {
  Setup s;
  s.fixes = fixes;
  s.params.session_abort_timeout = Duration::from_s(15);
  s.streams = {Stream{0, 0, 1, 1, Duration{}, OpKind::read}};
  Action a = act(ActionKind::scsi_abort);
  a.args.stream = 0;
  a.args.op = 0;
  s.actions = {{Duration::from_s(1), a}};
  s.stop_at = Duration::from_s(5);
  s.tune = [](test::FakeTransport& f) {
    f.drop_scsi = [](std::uint64_t nth) { return nth == 1; };
    f.abort_answer = test::TmfAnswer::complete;
  };
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(happy_path_200_commands_complete) {
  Setup s;
  s.streams = {Stream{0, 0, 200, 8, Duration{}, OpKind::read}};
  s.stop_at = Duration::from_s(2);
  const Summary m = run(s);
  dump("happy path", m);
  BOOST_TEST(num(m, "completed") == 200u);
  BOOST_TEST(num(m, "failed") == 0u);
  BOOST_TEST(num(m, "streams_ok") == 200u);
  BOOST_TEST(m.at("eh_max_level") == "none");
  BOOST_TEST(num(m, "uafs") == 0u);
  BOOST_TEST(num(m, "others") == 0u);
  BOOST_TEST(num(m, "quiescent") == 1u);
}

BOOST_AUTO_TEST_CASE(abort_with_tmf_success_fails_task_with_did_abort_and_eh_succeeds) {
  const Summary m = run(abort_setup(FixSet::all()));
  dump("abort", m);
  BOOST_TEST(num(m, "abort_ok") == 1u);
  BOOST_TEST(num(m, "abort_failed") == 0u);
  BOOST_TEST(num(m, "abrt_tmf_ended") == 1u);  // fail_scsi_task(task, DID_ABORT)
  BOOST_TEST(num(m, "did_abort_done") == 1u);  // its scsi_done, absorbed while the EH owns the command
  BOOST_TEST(num(m, "completed") == 1u);       // the retry (issue 2) succeeds
  BOOST_TEST(m.at("eh_max_level") == "abort");
  BOOST_TEST(num(m, "uafs") == 0u);
  BOOST_TEST(num(m, "quiescent") == 1u);
}

// p05's race: destroy_conn frees the conn while the abort still holds a task of it.
BOOST_AUTO_TEST_CASE(p05_teardown_while_abort_waits_uaf_through_task_conn) {
  auto setup = [](FixSet fixes) {
    Setup s;
    s.fixes = fixes;
    s.params.session_abort_timeout = Duration::from_s(15);
    s.streams = {Stream{0, 0, 1, 1, Duration{}, OpKind::read}};
    s.failpoints = {hold("libiscsi.exec_task_mgmt_fn.wait", 1, Duration::from_s(2))};
    Action abort = act(ActionKind::scsi_abort);
    s.actions = {{Duration::from_s(1), abort},
                 {Duration::from_ms(1500), act(ActionKind::iscsid_ep_disconnect)},
                 {Duration::from_ms(1500), act(ActionKind::iscsid_stop_conn)},
                 {Duration::from_ms(1500), act(ActionKind::iscsid_destroy_conn)}};
    s.stop_at = Duration::from_s(20);
    s.tune = [](test::FakeTransport& f) {
      f.drop_scsi = [](std::uint64_t nth) { return nth == 1; };
      f.abort_answer = test::TmfAnswer::drop;
    };
    return s;
  };
  const Summary off = run(setup(all_but(Patch::p05)));
  dump("p05 reverted", off);
  BOOST_TEST(any_uaf_on(off, "iscsi_conn s0c0"));
  BOOST_TEST(off.at("uaf0").find("scsi_tmf/host0") != std::string::npos);
  const Summary on = run(setup(FixSet::all()));
  dump("p05 applied", on);
  BOOST_TEST(num(on, "uafs") == 0u);
  BOOST_TEST(num(on, "failed") == 1u);  // the EH gives up on the command once the conn is gone
}

// p06's race: a LU reset sleeps on conn->ehwait while destroy_conn frees the conn.
BOOST_AUTO_TEST_CASE(p06_lu_reset_waiter_outlives_conn) {
  auto setup = [](FixSet fixes) {
    Setup s;
    s.fixes = fixes;
    s.params.session_lu_reset_timeout = Duration::from_s(30);
    s.failpoints = {hold("libiscsi.exec_task_mgmt_fn.wait", 1, Duration::from_s(1))};
    Action reset = act(ActionKind::scsi_reset);
    reset.args.level = ResetLevel::device;
    s.actions = {{Duration::from_s(1), reset},
                 {Duration::from_ms(1100), act(ActionKind::iscsid_ep_disconnect)},
                 {Duration::from_ms(1100), act(ActionKind::iscsid_stop_conn)},
                 {Duration::from_ms(1100), act(ActionKind::iscsid_destroy_conn)}};
    s.stop_at = Duration::from_s(40);
    s.tune = [](test::FakeTransport& f) { f.lu_reset_answer = test::TmfAnswer::drop; };
    return s;
  };
  const Summary off = run(setup(all_but(Patch::p06)));
  dump("p06 reverted", off);
  BOOST_TEST(any_uaf_on(off, "iscsi_conn s0c0"));
  BOOST_TEST(off.at("uaf0").find("sg_reset") != std::string::npos);
  const Summary on = run(setup(FixSet::all()));
  dump("p06 applied", on);
  BOOST_TEST(num(on, "uafs") == 0u);
}

// p03's race: ep_disconnect without a prior conn failure; IO keeps reaching the LLD.
BOOST_AUTO_TEST_CASE(p03_io_reaches_xmit_during_ep_disconnect_only_without_unbind) {
  auto setup = [](FixSet fixes) {
    Setup s;
    s.fixes = fixes;
    s.streams = {Stream{0, 0, 100000, 8, Duration{}, OpKind::read}};
    s.actions = {{Duration::from_s(1), act(ActionKind::iscsid_ep_disconnect)},
                 {Duration::from_s(1), act(ActionKind::iscsid_stop_conn)}};
    s.stop_at = Duration::from_s(2);
    s.tune = [](test::FakeTransport& f) { f.ep_disconnect_hold = Duration::from_ms(50); };
    return s;
  };
  const Summary off = run(setup(all_but(Patch::p03)));
  dump("p03 reverted", off);
  BOOST_TEST(num(off, "scsi_xmit_after_ep_disc") > 0u);
  BOOST_TEST(std::stoll(off.at("unbind_returned")) == -1);
  const Summary on = run(setup(FixSet::all()));
  dump("p03 applied", on);
  BOOST_TEST(std::stoll(on.at("unbind_returned")) >= 0);
  BOOST_TEST(std::stoll(on.at("unbind_returned")) <= std::stoll(on.at("ep_disc_entered")));
  BOOST_TEST(num(on, "scsi_xmit_after_unbind") == 0u);
  BOOST_TEST(num(on, "scsi_xmit_after_ep_disc") == 0u);
}

// The iscsi_session lives in the iscsi_cls_session device: an sg_reset's
// scsi_device pins it, so terminating the session while the sg_reset's
// handlers escalate leaves them a torn-down session, not freed memory.
// Without the pin (the session freed at teardown) they read freed memory.
BOOST_AUTO_TEST_CASE(sg_reset_pins_the_session_device_through_a_terminate) {
  auto setup = [](bool pin) {
    Setup s;
    s.params.session_lu_reset_timeout = Duration::from_s(2);
    s.params.session_tgt_reset_timeout = Duration::from_s(2);
    s.streams = {Stream{0, 0, 50, 4, Duration{}, OpKind::read}};
    Action reset = act(ActionKind::scsi_reset);
    Action term = act(ActionKind::iscsid_terminate);
    s.actions = {{Duration::from_ms(10), reset}, {Duration::from_s(1), term}};
    s.tune = [](test::FakeTransport& f) {
      f.lu_reset_answer = test::TmfAnswer::drop;
      f.tgt_reset_answer = test::TmfAnswer::drop;
    };
    if (!pin) s.tune_stack = [](HostStack& h) { h.scsi().set_target_pin(nullptr); };
    s.stop_at = Duration::from_s(10);
    return s;
  };
  const Summary pinned = run(setup(true));
  const Summary unpinned = run(setup(false));
  dump("sg_reset holds the session device", pinned);
  dump("no device reference", unpinned);
  BOOST_TEST(num(pinned, "uafs") == 0u);
  BOOST_TEST(num(unpinned, "uafs") > 0u);
}

// Schema v2 sessions[].cmds_max: each session's task pool has its own size
// (iscsid's node.session.cmds_max), the rest take session.cmds_max.
BOOST_AUTO_TEST_CASE(per_session_cmds_max_sizes_each_task_pool) {
  Setup s;
  s.params.session_cmds_max = 64;
  s.sessions = {SessionSpec{1, 16}, SessionSpec{1, {}}};
  s.streams = {Stream{0, 0, 200, 8, Duration{}, OpKind::read}, Stream{1, 0, 200, 8, Duration{}, OpKind::read}};
  const Summary r = run(s);
  dump("per-session cmds_max", r);
  BOOST_TEST(num(r, "pool0") == 16u);
  BOOST_TEST(num(r, "pool1") == 64u);
  BOOST_TEST(num(r, "streams_ok") == 400u);  // 16 leaves one SCSI task: commands wait for it, none fails
}

// iscsi_host_get_max_scsi_cmds: libiscsi's pool is at most ISCSI_TOTAL_CMDS_MAX tasks,
// rounded down to a power of two, whatever the LLD passes on.
BOOST_AUTO_TEST_CASE(libiscsi_rounds_a_pool_down_to_a_power_of_two) {
  BOOST_TEST(iscsi_session_pool_size(100) == 64u);
  BOOST_TEST(iscsi_session_pool_size(128) == 128u);
  BOOST_TEST(iscsi_session_pool_size(4095) == 2048u);
  BOOST_TEST(iscsi_session_pool_size(8192) == 4096u);
  BOOST_TEST(iscsi_session_pool_size(16) == 16u);
  Setup s;
  s.params.session_cmds_max = 100;
  s.sessions = {SessionSpec{1, 24}, SessionSpec{1, {}}};
  s.streams = {Stream{0, 0, 200, 8, Duration{}, OpKind::read}, Stream{1, 0, 200, 8, Duration{}, OpKind::read}};
  const Summary r = run(s);
  dump("pools of 24 and 100 tasks asked", r);
  BOOST_TEST(num(r, "pool0") == 16u);
  BOOST_TEST(num(r, "pool1") == 64u);
  BOOST_TEST(num(r, "streams_ok") == 400u);
}

// A busy queuecommand (SCSI_MLQUEUE_TARGET_BUSY) blocks the target for
// SCSI_DEFAULT_TARGET_BLOCKED runs and holds the request at the head of its
// device's hctx->dispatch: the device's other requests wait behind it, and
// the queue runs again every BLK_MQ_RESOURCE_DELAY (3 ms). Over 30 ms of
// refusals the LLD sees a few attempts, not every request every 3 ms.
BOOST_AUTO_TEST_CASE(a_busy_target_holds_its_queue_behind_the_refused_request) {
  Setup s;
  s.streams = {Stream{0, 0, 8, 8, Duration::from_ms(6), OpKind::read}};  // after the login (5 ms)
  s.tune = [](test::FakeTransport& f) { f.refuse_scsi_until = Duration::from_ms(36); };
  const Summary r = run(s);
  dump("LLD refuses SCSI commands until 36 ms", r);
  BOOST_TEST(num(r, "streams_ok") == 8u);
  // Refused attempts: one per run of the queue that reached queuecommand
  // (every third, target_blocked counting down), ~30 ms / 9 ms; then the 8.
  BOOST_TEST(num(r, "xmit_scsi") >= 8u + 2u);
  BOOST_TEST(num(r, "xmit_scsi") <= 8u + 6u);
}

// A target at its can_queue starves its devices (shost->starved_list): a
// completion runs each starved device's queue once, from its head, as
// scsi_starved_list_run does, and the requests behind a head wait without
// being dispatched again. A quiesced (blocked) target's requests are not
// dispatched while it is blocked. Both used to be dispatched again at every
// completion: 2,080 scsi_queue_rq runs for these 88 commands, 587 now.
BOOST_AUTO_TEST_CASE(starved_and_blocked_devices_wait_without_being_dispatched) {
  Setup s;
  s.sessions = {SessionSpec{8, 16}, SessionSpec{1, {}}};  // can_queue 1 for session 0's 8 LUNs
  for (std::uint32_t lun = 0; lun < 8; ++lun) s.streams.push_back(Stream{0, lun, 10, 4, Duration{}, OpKind::read});
  s.streams.push_back(Stream{1, 0, 8, 8, Duration{}, OpKind::read});  // blocked until session 1 logs in
  const Summary r = run(s);
  dump("8 LUNs behind can_queue 1, and a session logging in later", r);
  BOOST_TEST(num(r, "streams_ok") == 88u);
  // 88 commands reach the LLD; each completion runs at most the 8 starved
  // devices' heads, and the blocked session's 8 run again once unblocked.
  BOOST_TEST(num(r, "queue_rq") <= 88u * 10u);
}

// A starved device's queue also runs again after BLK_MQ_RESOURCE_DELAY
// when nothing completes (blk_mq_dispatch_rq_list's delayed run for
// BLK_STS_RESOURCE): that run is what counts a target_blocked down.
BOOST_AUTO_TEST_CASE(a_starved_device_runs_again_after_the_resource_delay) {
  Setup s;
  s.sessions = {SessionSpec{1, 16}};  // can_queue 1
  s.streams = {Stream{0, 0, 2, 2, Duration::from_ms(6), OpKind::read}};
  s.tune = [](test::FakeTransport& f) { f.drop_scsi = [](std::uint64_t nth) { return nth == 1; }; };
  s.stop_at = Duration::from_ms(36);
  const Summary r = run(s);
  dump("can_queue 1, the first command unanswered", r);
  // The second command's head run: once at 6 ms, then every 3 ms to 36 ms.
  BOOST_TEST(num(r, "queue_rq") >= 2u + 8u);
  BOOST_TEST(num(r, "queue_rq") <= 2u + 11u);
}

// p07: freeing the task pool before or after session removal is not observable.
BOOST_AUTO_TEST_CASE(p07_pool_free_order_changes_nothing) {
  auto setup = [](FixSet fixes) {
    Setup s;
    s.fixes = fixes;
    s.sessions = {SessionSpec{2, {}}};
    s.streams = {Stream{0, 0, 500, 8, Duration{}, OpKind::read}, Stream{0, 1, 500, 8, Duration{}, OpKind::write}};
    Action t = act(ActionKind::iscsid_terminate);
    t.args.unbind_target = true;
    s.actions = {{Duration::from_ms(8), t}};  // during IO (login completes at 5ms)
    s.stop_at = Duration::from_s(10);
    return s;
  };
  const Summary off = run(setup(all_but(Patch::p07)));
  const Summary on = run(setup(FixSet::all()));
  dump("p07 reverted", off);
  dump("p07 applied", on);
  BOOST_TEST(num(on, "uafs") == 0u);
  BOOST_TEST(num(off, "uafs") == 0u);
  BOOST_TEST(num(on, "streams_done") == 1000u);
  BOOST_TEST(num(on, "failed") > 0u);  // the terminate cut the streams short
  for (const char* k : {"completed", "failed", "eh_max_level", "streams_done", "trace_len", "trace", "quiescent"})
    BOOST_TEST(off.at(k) == on.at(k), k << ": " << off.at(k) << " vs " << on.at(k));
}

// p01: iscsi_task_is_completed exists; reverting p01 (and with it p10) changes nothing here.
BOOST_AUTO_TEST_CASE(p01_task_completion_helper_and_equivalence) {
  const Summary off = run(abort_setup(all_but(Patch::p01)));
  const Summary on = run(abort_setup(FixSet::all()));
  for (const char* k : {"completed", "failed", "eh_max_level", "abort_ok", "trace_len", "trace", "uafs"})
    BOOST_TEST(off.at(k) == on.at(k), k << ": " << off.at(k) << " vs " << on.at(k));
  BOOST_TEST(num(on, "uafs") == 0u);
}

// iscsi_task_is_completed: COMPLETED, ABRT_TMF, ABRT_SESS_RECOV only.
BOOST_AUTO_TEST_CASE(p01_iscsi_task_is_completed_states) {
  int fd[2];
  BOOST_REQUIRE(pipe(fd) == 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    Recorder rec;
    kern::Kernel k(nullptr, &rec, 1, Duration{});
    kern::Pool<IscsiTask> pool(2);
    kern::KPtr<IscsiTask> t = pool.alloc("t");
    std::string bits;
    for (TaskState s : {TaskState::FREE, TaskState::COMPLETED, TaskState::PENDING, TaskState::RUNNING,
                        TaskState::ABRT_TMF, TaskState::ABRT_SESS_RECOV, TaskState::REQUEUE_SCSIQ}) {
      t.raw()->state = s;
      bits += iscsi_task_is_completed(t) ? '1' : '0';
    }
    if (write(fd[1], bits.data(), bits.size()) < 0) _exit(3);
    _exit(0);
  }
  close(fd[1]);
  char buf[16] = {};
  const ssize_t n = read(fd[0], buf, sizeof buf - 1);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE(n == 7);
  BOOST_TEST(std::string(buf) == "0100110");
}

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
