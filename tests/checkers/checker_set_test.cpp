// Every checker fires on the bug and stays silent on the same activity done
// right, driven through the CheckerSet with synthetic event sequences.
// Objects are built by hand (Tracked<T> + KPtr); time and context come from
// a fake SiteSource, so no SystemC process runs.
#include "sim/checkers/checker_set.h"

#include <boost/test/unit_test.hpp>
#include <deque>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hba_model/fw_task_table.h"
#include "host_driver_model/kernel/kernel.h"
#include "host_driver_model/kernel/kmemleak.h"
#include "host_driver_model/libiscsi/iscsi_objects.h"

namespace qedisim {
// Boost.Test prints ids in failed assertions.
inline std::ostream& operator<<(std::ostream& os, InvariantId id) { return os << to_string(id); }
}  // namespace qedisim

using namespace qedisim;
using namespace qedisim::checkers;
using drv::IscsiConn;
using drv::IscsiSession;
using drv::IscsiTask;
using drv::QediWorkMap;
using drv::ScsiCmnd;
using kern::KPtr;
using kern::Tracked;

namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000 * kMs;

struct Clock {
  std::int64_t ns = 0;
  std::string ctx = "test";
  std::string fn = "-";
  std::vector<HeldLock> locks;
};

class FakeSites : public SiteSource {
 public:
  explicit FakeSites(std::shared_ptr<Clock> c) : c_(std::move(c)) {}
  Site site() const override { return Site{c_->ns, c_->ctx, c_->fn}; }
  std::vector<HeldLock> held_locks() const override { return c_->locks; }
  LightSite light_site() const override {
    LightSite s;
    s.ns = c_->ns;
    // Context ids and static names, as the kernel's: interned here.
    const auto [it, added] = ctx_ids_.emplace(c_->ctx, static_cast<std::uint32_t>(ctx_ids_.size()));
    s.ctx_id = it->second;
    s.ctx = it->first;
    s.fn = intern(c_->fn);
    for (const HeldLock& l : c_->locks) s.locks[s.nlocks++] = LockRef{l.id, intern(l.name)};
    return s;
  }

 private:
  // Static storage, as the kernel's function names are: checkers may keep
  // a name by its address (Name::of_literal) past the Rig that gave it.
  static const char* intern(const std::string& text) {
    static std::set<std::string> strings;
    return strings.insert(text).first->c_str();
  }
  std::shared_ptr<Clock> c_;
  mutable std::map<std::string, std::uint32_t> ctx_ids_;
};

// A hand-built tracked object: live, incarnation `inc`.
template <typename T>
struct Obj {
  std::unique_ptr<Tracked<T>> t = std::make_unique<Tracked<T>>();
  Obj(const std::string& name, std::uint32_t inc = 1, std::int64_t alloc_ns = 0) {
    t->hdr.type = T::kTypeName;
    t->hdr.name = name;
    t->hdr.incarnation = inc;
    t->hdr.live = true;
    t->hdr.alloc_ns = alloc_ns;
  }
  KPtr<T> ptr() const { return KPtr<T>(t.get()); }
  T& obj() { return t->obj; }
  kern::ObjectHeader& hdr() { return t->hdr; }
  void free(std::int64_t ns, const char* fn, const char* ctx) {
    t->hdr.live = false;
    t->hdr.free_ns = ns;
    t->hdr.free_fn = fn;
    t->hdr.free_ctx = ctx;
  }
  // The slot leaves the pool again: a new incarnation.
  void reuse(std::int64_t ns) {
    ++t->hdr.incarnation;
    t->hdr.live = true;
    t->hdr.alloc_ns = ns;
  }
};

struct Rig {
  std::shared_ptr<Clock> clock = std::make_shared<Clock>();
  CheckerSet set;
  Obj<IscsiSession> session{"s0"};
  Obj<IscsiConn> conn{"s0c0"};

  explicit Rig(CheckerConfig cfg = {}) : set(cfg, std::make_unique<FakeSites>(clock)) {
    session.obj().id = 0;
    session.obj().state = drv::SessionState::LOGGED_IN;
    conn.obj().session = session.ptr();
    conn.obj().dd_data.iscsi_conn_id = 3;
  }
  // Subsequent events happen at `ns` in `ctx`, inside kernel function `fn`.
  void at(std::int64_t ns, const char* ctx, const char* fn) {
    clock->ns = ns;
    clock->ctx = ctx;
    clock->fn = fn;
  }
  std::unique_ptr<Obj<IscsiTask>> task(const char* name, std::uint32_t inc = 1) {
    auto t = std::make_unique<Obj<IscsiTask>>(name, inc, clock->ns);
    t->obj().conn = conn.ptr();
    return t;
  }
  std::vector<InvariantId> ids() const {
    std::vector<InvariantId> out;
    for (const auto& v : set.violations()) out.push_back(v.id);
    return out;
  }
  std::size_t count(InvariantId id) const {
    std::size_t n = 0;
    for (const auto& v : set.violations()) n += v.id == id;
    return n;
  }
  // The one finding; fails the test if there is not exactly one.
  Violation only() const {
    const auto v = set.violations();
    BOOST_REQUIRE_EQUAL(v.size(), 1u);
    BOOST_TEST_MESSAGE(format_violation(v[0]));
    return v[0];
  }
  bool clean() const {
    for (const auto& v : set.violations()) BOOST_TEST_MESSAGE("unexpected: " << format_violation(v));
    return set.violations().empty();
  }
};

// The tid-reuse cases: the victim (itt 0x05 #3) owns tid 0x0c; `next`
// (itt 0x21 #5) is the command that may be given it too early.
struct TidReuse : Rig {
  std::unique_ptr<Obj<IscsiTask>> victim = task("s0 itt 0x05", 3);
  std::unique_ptr<Obj<IscsiTask>> next = task("s0 itt 0x21", 5);
  TidReuse() { set.tid_bound(0x0c, victim->ptr()); }
};

bool has(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos) return true;
  BOOST_TEST_MESSAGE("'" << s << "' lacks '" << part << "'");
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(uaf)

BOOST_AUTO_TEST_CASE(fires_on_tmf_state_read_after_conn_teardown) {
  Rig r;
  r.conn.hdr().alloc_fn = "iscsi_conn_setup";
  r.conn.hdr().alloc_ctx = "iscsid";
  r.conn.hdr().alloc_ns = 10 * kMs;
  r.conn.free(30'101 * kMs, "iscsi_conn_teardown", "iscsid");
  r.at(30'104 * kMs, "eh/host0", "iscsi_exec_task_mgmt_fn");
  r.set.use_after_free(r.conn.hdr(), 1, kern::AccessKind::read, "tmf_state");
  r.set.use_after_free(r.conn.hdr(), 1, kern::AccessKind::read, "tmf_state");  // same site: once
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::uaf);
  BOOST_TEST(v.context == "eh/host0");
  BOOST_TEST(v.object == "iscsi_conn s0c0");
  BOOST_TEST(v.function == "iscsi_exec_task_mgmt_fn");
  BOOST_TEST(v.message ==
             "read of tmf_state after free; alloc iscsi_conn_setup (iscsid, 0.010s), free iscsi_conn_teardown "
             "(iscsid, 30.101s)");
}

BOOST_AUTO_TEST_CASE(names_the_reuse_of_a_pool_slot) {
  Rig r;
  auto t = r.task("s0 itt 0x05", 3);
  t->free(5 * kMs, "iscsi_free_task", "qedi_thread/0");
  t->reuse(6 * kMs);
  t->hdr().alloc_fn = "iscsi_alloc_task";
  t->hdr().alloc_ctx = "queue/cpu1";
  r.at(7 * kMs, "tmf_wq/host0", "qedi_tmf_work");
  r.set.use_after_free(t->hdr(), 3, kern::AccessKind::write, "state");
  const Violation v = r.only();
  BOOST_TEST(v.object == "iscsi_task s0 itt 0x05 #3");
  BOOST_TEST(has(v.message, "#3 ended, slot reused as #4 by iscsi_alloc_task"));
}

BOOST_AUTO_TEST_CASE(silent_when_the_conn_is_used_before_teardown) {
  Rig r;
  r.at(1 * kMs, "iscsid", "iscsi_conn_setup");
  r.set.object_allocated(r.conn.hdr());
  r.at(2 * kMs, "eh/host0", "iscsi_exec_task_mgmt_fn");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("tmf_state"), kern::AccessKind::read, false);
  r.at(3 * kMs, "iscsid", "iscsi_conn_teardown");
  r.conn.free(3 * kMs, "iscsi_conn_teardown", "iscsid");
  r.set.object_freed(r.conn.hdr());
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(double_free)

BOOST_AUTO_TEST_CASE(fires_on_a_tid_cleared_twice) {
  Rig r;
  auto t = r.task("s0 itt 0x05");
  r.at(40'000 * kMs, "queue/cpu0", "qedi_task_xmit");
  r.set.tid_allocated(0x1a);
  r.set.tid_bound(0x1a, t->ptr());
  r.at(40'998 * kMs, "qedi_thread/0", "qedi_process_cmd_cleanup_resp");
  r.set.tid_cleared(0x1a, true);
  r.at(41'002 * kMs, "qedi_thread/0", "qedi_clear_task_idx");
  r.set.tid_cleared(0x1a, false);
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::double_free);
  BOOST_TEST(v.object == "tid 0x01a");
  BOOST_TEST(v.message == "tid already cleared; first clear by qedi_process_cmd_cleanup_resp (qedi_thread/0, 40.998s)");
}

BOOST_AUTO_TEST_CASE(fires_on_a_kfree_of_a_freed_work_map_and_a_put_below_zero) {
  Rig r;
  Obj<QediWorkMap> wm{"", 12};
  wm.free(35 * kMs, "qedi_process_cmd_cleanup_resp", "qedi_thread/0");
  r.at(36 * kMs, "tmf_wq/host0", "qedi_tmf_work");
  r.set.double_free(wm.hdr(), 12);
  auto t = r.task("s0 itt 0x05");
  r.at(37 * kMs, "eh/host0", "iscsi_eh_abort");
  r.set.task_ref_changed(t->ptr(), -1, -1);
  BOOST_TEST(r.count(InvariantId::double_free) == 2u);
  BOOST_TEST(has(r.set.violations()[0].message, "freed twice; first free by qedi_process_cmd_cleanup_resp"));
  BOOST_TEST(r.set.violations()[0].object == "qedi_work_map #12");
}

BOOST_AUTO_TEST_CASE(silent_when_each_tid_and_reference_is_released_once) {
  Rig r;
  auto t = r.task("s0 itt 0x05");
  r.set.tid_allocated(0x1a);
  r.set.tid_bound(0x1a, t->ptr());
  r.set.task_ref_changed(t->ptr(), 1, 2);
  r.set.task_ref_changed(t->ptr(), -1, 1);
  r.set.task_ref_changed(t->ptr(), -1, 0);
  r.set.tid_cleared(0x1a, true);
  r.set.task_freed(t->ptr());
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(null_deref)

BOOST_AUTO_TEST_CASE(fires_on_ep_used_after_ep_disconnect_cleared_it) {
  Rig r;
  r.at(95'120 * kMs, "iscsid", "qedi_ep_disconnect");
  r.set.pointer_nulled(r.conn.hdr(), "ep", "qedi_endpoint");
  r.at(95'310 * kMs, "tmf_wq/host0", "qedi_iscsi_cleanup_task");
  r.set.null_deref("qedi_endpoint", "sq_base");
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::null_deref);
  BOOST_TEST(v.context == "tmf_wq/host0");
  BOOST_TEST(v.object == "iscsi_conn s0c0");
  BOOST_TEST(v.message == "ep is NULL (set by qedi_ep_disconnect, iscsid, 95.120s); call abandoned at sq_base");
}

BOOST_AUTO_TEST_CASE(silent_when_nothing_dereferences_the_cleared_ep) {
  Rig r;
  r.at(95'120 * kMs, "iscsid", "qedi_ep_disconnect");
  r.set.pointer_nulled(r.conn.hdr(), "ep", "qedi_endpoint");
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(leak)

// A real slab and the process's kmemleak registry, in a Kernel with no SystemC process.
struct LeakRig {
  kern::Observer quiet;
  kern::Kernel kernel{nullptr, &quiet, 1, Duration{}};
  kern::Slab<QediWorkMap> maps;
  std::vector<KPtr<QediWorkMap>> list;  // a root: a list that holds work maps
  kern::KmemleakRoot root{this, "test list", [this](kern::RefVisitor& v) { v(list); }};
};

BOOST_AUTO_TEST_CASE(fires_once_for_an_allocation_no_root_reaches) {
  LeakRig k;
  CheckerConfig cfg;
  cfg.leak_scan_interval_ns = 0;
  Rig r(cfg);
  const KPtr<QediWorkMap> kept = k.maps.alloc("s0 rtt 0x05");
  const KPtr<QediWorkMap> lost = k.maps.alloc("s0 rtt 0x06");
  k.list.push_back(kept);
  r.set.quiescent_point(10 * kS);
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::leak);
  BOOST_TEST(v.context == "kmemleak");
  BOOST_TEST(v.object == "qedi_work_map s0 rtt 0x06 #1");
  BOOST_TEST(v.message ==
             "unreferenced object (kmalloc-64): allocated by - (setup, 0.000s), last accessed by setup; no "
             "session, conn, qedi table, request, queued work or armed timer points to it");
  r.set.quiescent_point(20 * kS);
  BOOST_TEST(r.count(InvariantId::leak) == 1u);  // once per object
  k.maps.free(lost);
  k.maps.free(kept);  // freed while listed: a dangling list entry, no leak
  r.set.quiescent_point(30 * kS);
  BOOST_TEST(r.count(InvariantId::leak) == 1u);
}

BOOST_AUTO_TEST_CASE(silent_while_a_list_holds_the_object_and_after_its_free) {
  LeakRig k;
  CheckerConfig cfg;
  cfg.leak_scan_interval_ns = 0;
  Rig r(cfg);
  const KPtr<QediWorkMap> wm = k.maps.alloc("s0 rtt 0x05");
  k.list.push_back(wm);
  r.set.quiescent_point(10 * kS);
  k.list.clear();  // list_del_init, then kfree
  k.maps.free(wm);
  r.set.quiescent_point(20 * kS);
  r.set.end_of_run(30 * kS, true);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_CASE(scans_at_most_once_per_interval_and_at_a_quiescent_end_only) {
  LeakRig k;
  CheckerConfig cfg;
  cfg.leak_scan_interval_ns = 10 * kS;
  Rig r(cfg);
  r.set.quiescent_point(1 * kS);  // the first quiescent point scans (nothing to find)
  const KPtr<QediWorkMap> lost = k.maps.alloc("s0 rtt 0x06");
  r.set.quiescent_point(5 * kS);  // within the interval: no scan
  BOOST_TEST(r.clean());
  r.set.end_of_run(6 * kS, false);  // a run cut off mid-call: no scan
  BOOST_TEST(r.clean());
  r.set.end_of_run(7 * kS, true);
  BOOST_TEST(r.only().id == InvariantId::leak);
  k.maps.free(lost);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(double_complete)

Obj<ScsiCmnd> make_cmd(std::uint32_t tag) {
  Obj<ScsiCmnd> c{"cmd"};
  c.obj().session = 0;
  c.obj().lun = 0;
  c.obj().tag = tag;
  c.obj().issue = 1;
  return c;
}

BOOST_AUTO_TEST_CASE(fires_when_a_reset_response_completes_a_command_conn_stop_failed) {
  Rig r;
  auto cmd = make_cmd(17);
  r.at(95'900 * kMs, "iscsid", "iscsi_conn_stop");
  r.set.scsi_done(cmd.ptr());
  r.at(96'002 * kMs, "tmf_wq/host0", "iscsi_free_task");
  r.set.scsi_done(cmd.ptr());
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::double_complete);
  BOOST_TEST(v.object == "scsi_cmnd s0 lun0 tag 17 issue 1");
  BOOST_TEST(v.message ==
             "scsi_done via iscsi_free_task for a command already finished by iscsi_conn_stop (iscsid, 95.900s)");
}

BOOST_AUTO_TEST_CASE(fires_on_a_second_completion_while_the_eh_owns_it) {
  Rig r;
  auto cmd = make_cmd(3);
  r.at(30 * kS, "timer", "scsi_timeout");
  r.set.eh_owns(cmd.ptr());
  r.at(31 * kS, "qedi_thread/0", "qedi_scsi_completion");
  r.set.scsi_done(cmd.ptr());  // absorbed, as in the kernel
  BOOST_TEST(r.clean());
  r.at(32 * kS, "eh/host0", "fail_scsi_task");
  r.set.scsi_done(cmd.ptr());
  BOOST_TEST(has(r.only().message, "second scsi_done while the EH owns the command"));
}

BOOST_AUTO_TEST_CASE(silent_when_the_eh_hands_back_and_the_retry_completes) {
  Rig r;
  auto cmd = make_cmd(3);
  r.set.eh_owns(cmd.ptr());
  r.set.scsi_done(cmd.ptr());  // absorbed
  r.set.eh_done(cmd.ptr());
  cmd.obj().issue = 2;  // the retry is a new issue
  r.set.scsi_done(cmd.ptr());
  BOOST_TEST(r.clean());
}

// The last 8,192 finished issues are remembered, the oldest forgotten
// first (16,384 forgotten here); a forgotten issue's record serves a new
// issue as new, and every remembered one is still found.
BOOST_AUTO_TEST_CASE(remembers_the_last_8192_finished_issues) {
  Rig r;
  auto cmd = make_cmd(5);
  auto done = [&](std::uint32_t issue) {
    cmd.obj().issue = issue;
    r.set.scsi_done(cmd.ptr());
  };
  constexpr std::uint32_t kLast = 3 * 8192;  // 1 .. 16,384 forgotten
  r.at(1 * kS, "qedi_thread/0", "qedi_scsi_completion");
  for (std::uint32_t issue = 1; issue <= kLast; ++issue) done(issue);
  BOOST_TEST(r.clean());  // each new issue's record, reused ones too, starts with the LLD
  r.at(2 * kS, "eh/host0", "fail_scsi_task");
  done(16383);  // forgotten: a first completion again, which forgets 16,385
  done(16384);  // the same (16,386 forgotten)
  BOOST_TEST(r.clean());
  done(16387);  // the oldest still remembered
  const Violation v = r.only();
  BOOST_TEST(v.object == "scsi_cmnd s0 lun0 tag 5 issue 16387");
  BOOST_TEST(v.message ==
             "scsi_done via fail_scsi_task for a command already finished by qedi_scsi_completion (qedi_thread/0, "
             "1.000s)");
  for (std::uint32_t issue = 16388; issue <= kLast; ++issue) done(issue);
  done(16383);
  done(16384);
  std::size_t reports = 0;
  for (const auto& f : r.set.violations()) reports += f.count;
  BOOST_TEST(reports == 8192u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(tid_leak)

BOOST_AUTO_TEST_CASE(fires_for_the_first_of_two_tids_taken_for_one_tmf) {
  Rig r;
  auto mtask = r.task("s0 itt 0x40", 2);
  r.at(33'001 * kMs, "tmf_wq/host0", "qedi_tmf_work");
  r.set.tid_allocated(0x21);
  r.set.tid_bound(0x21, mtask->ptr());
  r.at(33'002 * kMs, "tmf_wq/host0", "qedi_iscsi_send_generic_request");
  r.set.tid_allocated(0x22);
  r.set.tid_bound(0x22, mtask->ptr());
  r.at(33'100 * kMs, "qedi_thread/0", "qedi_process_tmf_resp");
  r.set.tid_cleared(0x22, true);
  r.set.task_freed(mtask->ptr());
  r.set.quiescent_point(120 * kS);
  r.set.quiescent_point(130 * kS);  // once per allocation
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::tid_leak);
  BOOST_TEST(v.context == "checker");
  BOOST_TEST(v.object == "tid 0x021");
  BOOST_TEST(v.function == "qedi_tmf_work");
  BOOST_TEST(has(
      v.message,
      "set at quiescence; allocated by qedi_tmf_work (tmf_wq/host0, 33.001s) for iscsi_task "
      "s0 itt 0x40 #2, then overwritten by a second tid, tid 0x022, in qedi_iscsi_send_generic_request at 33.002s"));
  BOOST_TEST(has(v.message, "in use 1, owners 0"));
}

BOOST_AUTO_TEST_CASE(fires_for_a_tid_whose_task_was_freed_without_clearing_it) {
  Rig r;
  auto t = r.task("s0 itt 0x07");
  r.set.tid_bound(0x30, t->ptr());
  r.at(5 * kS, "qedi_thread/1", "iscsi_free_task");
  r.set.task_freed(t->ptr());
  r.set.end_of_run(10 * kS, false);
  BOOST_TEST(has(r.only().message, "which iscsi_free_task freed at 5.000s"));
}

// The tid's previous owner is gone, and its new allocation is not bound yet
// when the run is cut off (stop_at) inside the allocating call: not judged.
BOOST_AUTO_TEST_CASE(a_tid_reallocated_but_not_yet_bound_is_judged_only_at_quiescence) {
  Rig r;
  auto t = r.task("s0 itt 0x26");
  r.set.tid_bound(0x02, t->ptr());
  r.at(436 * kMs, "qedi_thread/0", "qedi_cleanup_task");
  r.set.tid_cleared(0x02, true);
  r.set.tid_unbound(t->ptr(), 0x02);
  r.at(1 * kS, "tmf_wq/host0", "send_iscsi_tmf");
  r.set.tid_allocated(0x02);  // held before its bind
  r.set.end_of_run(1'500 * kMs, false);
  BOOST_TEST(r.clean());
  r.set.quiescent_point(2 * kS);  // nobody is left to bind it
  const Violation v = r.only();
  BOOST_TEST(has(v.message, "allocated by send_iscsi_tmf (tmf_wq/host0, 1.000s) never bound to a task"));
}

BOOST_AUTO_TEST_CASE(silent_when_one_tid_per_tmf_is_taken_and_freed) {
  Rig r;
  auto mtask = r.task("s0 itt 0x40", 2);
  auto io = r.task("s0 itt 0x41");
  r.set.tid_allocated(0x21);
  r.set.tid_bound(0x21, mtask->ptr());
  r.set.tid_bound(0x22, io->ptr());  // live at quiescence is not a leak
  r.set.tid_cleared(0x21, true);
  r.set.task_freed(mtask->ptr());
  r.set.quiescent_point(120 * kS);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(tid_double_owner)

BOOST_AUTO_TEST_CASE(fires_when_a_tid_freed_at_completion_is_given_to_a_new_command) {
  TidReuse r;
  r.at(31'050 * kMs, "qedi_thread/2", "qedi_scsi_completion");
  r.set.tid_cleared(0x0c, true);  // victim still referenced by the EH
  r.at(31'052 * kMs, "queue/cpu2", "qedi_task_xmit");
  r.set.tid_allocated(0x0c);
  r.set.tid_bound(0x0c, r.next->ptr());
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::tid_double_owner);
  BOOST_TEST(v.object == "tid 0x00c");
  BOOST_TEST(v.message ==
             "tid given to iscsi_task s0 itt 0x21 #5 while iscsi_task s0 itt 0x05 #3 owns it; cleared by "
             "qedi_scsi_completion at 31.050s while the owner was still live");
}

BOOST_AUTO_TEST_CASE(fires_on_the_firmware_side_when_a_held_context_is_overwritten) {
  Rig r;
  hba::FwTask prev, now;
  prev.state = hba::FwTaskState::active;
  prev.cid = 3;
  prev.itt = 0x0005;
  now.cid = 3;
  now.itt = 0x0021;
  r.set.on_task_init(0x0c, prev, now, true);
  const Violation v = r.only();
  BOOST_TEST(v.context == "fw");
  BOOST_TEST(has(v.message, "over the one it still held (active) for cid 3 itt 0x5"));
}

BOOST_AUTO_TEST_CASE(silent_when_the_tid_is_freed_with_its_task) {
  TidReuse r;
  r.set.tid_cleared(0x0c, true);
  r.set.tid_unbound(r.victim->ptr(), 0x0c);
  r.set.task_freed(r.victim->ptr());
  r.set.tid_allocated(0x0c);
  r.set.tid_bound(0x0c, r.next->ptr());
  hba::FwTask prev, now;
  prev.state = hba::FwTaskState::completed;
  r.set.on_task_init(0x0c, prev, now, false);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(wrong_task_cleanup)

BOOST_AUTO_TEST_CASE(fires_when_the_victims_tid_was_reused_before_the_cleanup_ran) {
  TidReuse r;
  r.at(31'055 * kMs, "tmf_wq/host0", "qedi_tmf_work");
  r.set.cleanup_posted(0x0c, r.victim->ptr());
  r.at(31'056 * kMs, "qedi_thread/0", "qedi_scsi_completion");
  r.set.tid_cleared(0x0c, true);
  r.set.task_freed(r.victim->ptr());
  r.at(31'058 * kMs, "queue/cpu0", "qedi_task_xmit");
  r.set.tid_bound(0x0c, r.next->ptr());
  r.at(31'060 * kMs, "checker-does-not-care", "-");
  r.set.on_cleanup(3, 0x0c, hba::FwTask{});
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::wrong_task_cleanup);
  BOOST_TEST(v.context == "fw");
  BOOST_TEST(v.function == "qedi_iscsi_cleanup_task");
  BOOST_TEST(v.message ==
             "cleanup meant for iscsi_task s0 itt 0x05 #3 hit task iscsi_task s0 itt 0x21 #5; posted by "
             "qedi_tmf_work (tmf_wq/host0, 31.055s)");
}

BOOST_AUTO_TEST_CASE(fires_when_an_abort_references_another_tasks_tid) {
  Rig r;
  auto victim = r.task("s0 itt 0x05", 3);
  auto other = r.task("s0 itt 0x05", 4);
  r.set.tid_bound(0x0d, other->ptr());
  r.at(1 * kS, "tmf_wq/host0", "qedi_send_iscsi_tmf");
  r.set.abort_sent(0x0d, victim->ptr());
  BOOST_TEST(has(r.only().message, "ABORT TASK meant for victim iscsi_task s0 itt 0x05 #3"));
}

BOOST_AUTO_TEST_CASE(silent_when_the_cleanup_hits_the_victim_or_an_idle_tid) {
  Rig r;
  auto victim = r.task("s0 itt 0x05", 3);
  r.set.tid_bound(0x0c, victim->ptr());
  r.set.cleanup_posted(0x0c, victim->ptr());
  r.set.abort_sent(0x0c, victim->ptr());
  r.set.on_cleanup(3, 0x0c, hba::FwTask{});  // still the victim's
  r.set.cleanup_posted(0x0c, victim->ptr());
  r.set.tid_cleared(0x0c, true);
  r.set.task_freed(victim->ptr());
  r.set.on_cleanup(3, 0x0c, hba::FwTask{});  // idle: the victim had finished
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(sq_overwrite)

BOOST_AUTO_TEST_CASE(fires_when_a_slot_is_rewritten_before_its_fetch) {
  Rig r;
  r.at(1'000 * kMs, "queue/cpu0", "qedi_iscsi_send_ioreq");
  r.set.sq_slot_written(0, 7, 0x12);
  r.at(1'001 * kMs, "tmf_wq/host0", "send_iscsi_tmf");
  r.set.sq_slot_written(0, 7, 0x13);  // both read sq_prod_idx 7
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::sq_overwrite);
  BOOST_TEST(v.object == "SQ cid 0x0");
  BOOST_TEST(v.function == "send_iscsi_tmf");
  BOOST_TEST(v.message ==
             "slot 7 rewritten with the WQE for tid 0x013 before the firmware fetched its WQE for tid 0x012 "
             "(written by qedi_iscsi_send_ioreq (queue/cpu0, 1.000s)): that WQE is lost");
}

BOOST_AUTO_TEST_CASE(fires_on_a_stale_fetch_and_on_a_refused_doorbell) {
  Rig r;
  r.set.sq_slot_written(0, 0, 0x12);
  r.set.on_sq_fetched(0, 0, 0x12);
  r.set.on_sq_fetched(0, 0, 0x12);  // fetched again without a new write
  BOOST_TEST(has(r.only().message, "which the driver has not written since the firmware last fetched it"));
  Rig r2;
  r2.set.on_sq_doorbell_refused(1, 39, 41, 1024);
  BOOST_TEST(has(r2.only().message, "doorbell producer 39 is behind the firmware's consumer 41 (ring of 1024)"));
}

BOOST_AUTO_TEST_CASE(silent_when_each_write_is_fetched_once_or_discarded) {
  Rig r;
  for (std::uint32_t lap = 0; lap < 3; ++lap)
    for (std::uint32_t slot = 0; slot < 4; ++slot) {
      r.set.sq_slot_written(0, slot, static_cast<std::uint16_t>(slot + 1));
      r.set.on_sq_fetched(0, slot, static_cast<std::uint16_t>(slot + 1));
    }
  r.set.sq_slot_written(0, 0, 0x20);  // never fetched: clear_sq skips it
  r.set.on_sq_discarded(0);
  r.set.sq_slot_written(0, 0, 0x21);
  r.set.on_sq_fetched(0, 0, 0x21);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(fw_orphan)

BOOST_AUTO_TEST_CASE(fires_when_a_reset_fails_a_task_the_firmware_still_runs) {
  Rig r;
  hba::FwTaskTable table(128);
  r.set.set_firmware_tasks(&table);
  auto t = r.task("s0 itt 0x33");
  r.at(61'150 * kMs, "queue/cpu3", "qedi_task_xmit");
  r.set.tid_bound(0x44, t->ptr());
  r.set.wqe_posted(r.conn.ptr(), 0x44, t->ptr(), drv::PduKind::scsi_cmd, false, 0x00440033);
  table.init(0x44, 3, 0x01, 0x00440033, 0, 0);
  table.set_state(0x44, hba::FwTaskState::active);
  hba::FwTask now = table.at(0x44);
  r.set.on_task_init(0x44, hba::FwTask{}, now, false);
  r.at(61'204 * kMs, "eh/host0", "fail_scsi_tasks");
  r.set.task_ended(t->ptr(), "failed with DID_ERROR after LU reset");
  r.set.task_freed(t->ptr());  // once per task
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::fw_orphan);
  BOOST_TEST(v.object == "iscsi_task s0 itt 0x33 #1");
  BOOST_TEST(v.function == "fail_scsi_tasks");
  BOOST_TEST(v.message ==
             "failed with DID_ERROR after LU reset while firmware still runs tid 0x044 (active, posted by "
             "qedi_task_xmit, queue/cpu3, 61.150s)");
}

BOOST_AUTO_TEST_CASE(fires_for_a_wqe_not_yet_fetched) {
  Rig r;
  hba::FwTaskTable table(128);
  r.set.set_firmware_tasks(&table);
  auto t = r.task("s0 itt 0x33");
  r.set.tid_bound(0x44, t->ptr());
  r.set.wqe_posted(r.conn.ptr(), 0x44, t->ptr(), drv::PduKind::scsi_cmd, false, 0x00440033);
  r.set.task_ended(t->ptr(), "failed");
  BOOST_TEST(has(r.only().message, "WQE not yet fetched from the SQ"));
}

BOOST_AUTO_TEST_CASE(silent_when_the_firmware_completed_or_cleaned_it_first) {
  Rig r;
  hba::FwTaskTable table(128);
  r.set.set_firmware_tasks(&table);
  auto t = r.task("s0 itt 0x33");
  auto u = r.task("s0 itt 0x34");
  r.set.tid_bound(0x44, t->ptr());
  r.set.wqe_posted(r.conn.ptr(), 0x44, t->ptr(), drv::PduKind::scsi_cmd, false, 0x00440033);
  table.init(0x44, 3, 0x01, 0x00440033, 0, 0);
  r.set.on_task_init(0x44, hba::FwTask{}, table.at(0x44), false);
  table.set_state(0x44, hba::FwTaskState::completed);
  r.set.task_ended(t->ptr(), "completed");
  r.set.task_freed(t->ptr());
  // A second task whose WQE the teardown's clear_sq dropped before the fetch.
  r.set.tid_bound(0x45, u->ptr());
  r.set.wqe_posted(r.conn.ptr(), 0x45, u->ptr(), drv::PduKind::scsi_cmd, false, 0x00450034);
  r.set.on_sq_discarded(3);
  r.set.task_ended(u->ptr(), "failed");
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(xmit_after_unbind)

BOOST_AUTO_TEST_CASE(fires_when_a_nop_out_reaches_the_driver_during_ep_disconnect) {
  Rig r;
  r.at(44'900 * kMs, "iscsid", "qedi_ep_disconnect");
  r.set.ep_disconnect_entered(r.conn.ptr());
  r.at(45'020 * kMs, "timer", "qedi_task_xmit");
  r.set.xmit_entry(r.conn.ptr(), drv::PduKind::nop_out);
  r.set.wqe_posted(r.conn.ptr(), 0x10, KPtr<IscsiTask>(), drv::PduKind::nop_out, false, 0);  // same PDU
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::xmit_after_unbind);
  BOOST_TEST(v.context == "timer");
  BOOST_TEST(v.object == "iscsi_conn s0c0");
  BOOST_TEST(v.message ==
             "nop-out reached the driver 0.120s after qedi_ep_disconnect began (iscsid, 44.900s); session "
             "still LOGGED_IN");
}

BOOST_AUTO_TEST_CASE(silent_before_unbind_for_teardown_cleanups_and_after_restart) {
  Rig r;
  r.set.xmit_entry(r.conn.ptr(), drv::PduKind::scsi_cmd);
  r.at(1 * kS, "iscsid", "iscsi_if_ep_disconnect");
  r.set.unbind_returned(r.conn.ptr());
  r.set.wqe_posted(r.conn.ptr(), 0x10, KPtr<IscsiTask>(), drv::PduKind::scsi_cmd, true, 0);  // cleanup WQE
  r.set.conn_started(r.conn.ptr());
  r.set.xmit_entry(r.conn.ptr(), drv::PduKind::scsi_cmd);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(work_after_disconnect)

BOOST_AUTO_TEST_CASE(fires_for_a_work_that_runs_after_the_barrier) {
  Rig r;
  int w1 = 0;
  r.at(96'300 * kMs, "iscsid", "qedi_ep_disconnect");
  r.set.ep_disconnect_barrier(r.conn.ptr());
  r.at(96'900 * kMs, "iscsid", "qedi_ep_disconnect");
  r.set.ep_disconnect_returned(r.conn.ptr());
  r.at(97'300 * kMs, "qedi_thread/0", "qedi_process_tmf_resp");
  r.set.tmf_work_queued(r.conn.ptr(), drv::TmfWorkKind::reset_resp, &w1);
  r.at(97'310 * kMs, "tmf_wq/host0", "qedi_tmf_resp_work");
  r.set.tmf_work_step(r.conn.ptr(), drv::TmfWorkKind::reset_resp, &w1);  // same work: once
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::work_after_disconnect);
  BOOST_TEST(v.object == "qedi_conn s0c0");
  BOOST_TEST(v.message ==
             "reset-response work queued after qedi_ep_disconnect passed its TMF wait (iscsid, 96.300s, "
             "returned 96.900s)");
}

BOOST_AUTO_TEST_CASE(fires_for_a_work_still_queued_at_the_barrier) {
  Rig r;
  int w1 = 0;
  r.at(1 * kS, "eh/host0", "qedi_send_iscsi_tmf");
  r.set.tmf_work_queued(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  r.at(11 * kS, "iscsid", "qedi_ep_disconnect");
  r.set.ep_disconnect_barrier(r.conn.ptr());
  r.at(12 * kS, "tmf_wq/host0", "qedi_abort_work");
  r.set.tmf_work_step(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  const Violation v = r.only();
  BOOST_TEST(v.function == "qedi_ep_disconnect");
  BOOST_TEST(has(v.message, "abort work still queued when qedi_ep_disconnect stopped waiting"));
}

BOOST_AUTO_TEST_CASE(silent_when_ep_disconnect_waits_for_every_work) {
  Rig r;
  int w1 = 0;
  r.set.tmf_work_queued(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  r.set.tmf_work_step(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  r.set.tmf_work_done(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  r.set.ep_disconnect_barrier(r.conn.ptr());
  r.set.ep_disconnect_returned(r.conn.ptr());
  r.set.conn_started(r.conn.ptr());  // relogin
  r.set.tmf_work_queued(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  r.set.tmf_work_step(r.conn.ptr(), drv::TmfWorkKind::abort, &w1);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(cleanup_stall)

void bulk_cleanup(Rig& r, std::int64_t cqe_at) {
  r.at(61'400 * kMs, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.cleanup_posted(5, KPtr<IscsiTask>());
  r.set.cleanup_posted(6, KPtr<IscsiTask>());
  r.set.cleanup_counters(r.conn.ptr(), 2, 0);
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, {5, 6}, 66'400 * kMs);
  r.at(cqe_at, "qedi_thread/0", "qedi_process_cmd_cleanup_resp");
  r.set.cleanup_cqe_handled(5);
  r.set.cleanup_counters(r.conn.ptr(), 2, 1);
  r.set.cleanup_cqe_handled(6);  // the driver's lookup missed this one (p17)
  r.at(66'400 * kMs, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, true);
}

BOOST_AUTO_TEST_CASE(fires_when_the_wait_times_out_with_every_cqe_handled) {
  Rig r;
  bulk_cleanup(r, 61'431 * kMs);
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::cleanup_stall);
  BOOST_TEST(v.object == "qedi_conn s0c0");
  BOOST_TEST(v.function == "qedi_cleanup_all_io");
  BOOST_TEST(v.message == "wait timed out after 5.000s; 2 of 2 cleanup CQEs handled by 61.431s, driver counted 1");
}

// s1's wait awaits tids 5 and 6; 6's CQE never comes, the tid is freed and
// given to a command of s0 whose own bulk cleanup is answered at once: that
// CQE is not s1's, so s1's timeout is not a stall with every CQE handled.
BOOST_AUTO_TEST_CASE(silent_when_a_tid_is_cleaned_up_again_for_another_owner_during_the_wait) {
  Rig r;
  r.at(2'010 * kMs, "iscsid", "qedi_cleanup_all_io");
  r.set.cleanup_posted(5, KPtr<IscsiTask>());
  r.set.cleanup_posted(6, KPtr<IscsiTask>());
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, {5, 6}, 7'010 * kMs);
  r.at(2'514 * kMs, "qedi_thread/1", "qedi_process_cmd_cleanup_resp");
  r.set.cleanup_cqe_handled(5);
  r.at(3 * kS, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.cleanup_posted(6, KPtr<IscsiTask>());  // 6 now belongs to a command of another session
  r.at(3'001 * kMs, "qedi_thread/0", "qedi_process_cmd_cleanup_resp");
  r.set.cleanup_cqe_handled(6);
  r.at(7'010 * kMs, "iscsid", "qedi_cleanup_all_io");
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, true);
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait2, {5, 6}, 12'010 * kMs);
  r.at(12'010 * kMs, "iscsid", "qedi_cleanup_all_io");
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait2, true);  // the same round
  BOOST_TEST(r.clean());
}

// ep_disconnect's qedi_clearsq waits on the conn while a reset-response work
// runs its own bulk cleanup and resets the counters: the work's wait must not
// hide the first one, which then times out with both of its CQEs handled.
BOOST_AUTO_TEST_CASE(fires_for_a_wait_overlapped_by_another_contexts_wait) {
  Rig r;
  r.at(2 * kS, "iscsid", "qedi_cleanup_all_io");
  r.set.cleanup_posted(5, KPtr<IscsiTask>());
  r.set.cleanup_posted(6, KPtr<IscsiTask>());
  r.set.cleanup_counters(r.conn.ptr(), 2, 0);
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, {5, 6}, 7 * kS);
  r.at(2'001 * kMs, "qedi_thread/0", "qedi_process_cmd_cleanup_resp");
  r.set.cleanup_cqe_handled(6);
  r.set.cleanup_counters(r.conn.ptr(), 2, 1);
  r.at(2'500 * kMs, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.cleanup_counters(r.conn.ptr(), 0, 0);
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, {}, 7'500 * kMs);
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, false);
  r.at(5 * kS, "qedi_thread/0", "qedi_process_cmd_cleanup_resp");
  r.set.cleanup_cqe_handled(5);  // "Delayed or untracked cleanup response": req is 0
  r.at(7 * kS, "iscsid", "qedi_cleanup_all_io");
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::bulk_wait1, true);
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::cleanup_stall);
  BOOST_TEST(v.message == "wait timed out after 5.000s; 2 of 2 cleanup CQEs handled by 5.000s, driver counted 0");
}

BOOST_AUTO_TEST_CASE(fires_when_cmpl_exceeds_req) {
  Rig r;
  r.set.cleanup_counters(r.conn.ptr(), 2, 3);
  r.set.cleanup_counters(r.conn.ptr(), 2, 4);  // once until reset
  BOOST_TEST(has(r.only().message, "cmd_cleanup_cmpl 3 exceeds cmd_cleanup_req 2"));
}

BOOST_AUTO_TEST_CASE(silent_when_the_cqes_came_late_or_the_wait_was_woken) {
  Rig r;
  bulk_cleanup(r, 66'399'500'000);  // within wake_slack of the deadline: a firmware delay
  r.set.cleanup_posted(7, KPtr<IscsiTask>());
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::abort_victim, {7}, 80 * kS);
  r.set.cleanup_cqe_handled(7);
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::abort_victim, false);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(driver_session_state)

BOOST_AUTO_TEST_CASE(fires_when_the_driver_unblocks_a_session_whose_conn_failed) {
  Rig r;
  r.at(12'020 * kMs, "qedi_thread/0", "iscsi_conn_failure");
  r.set.conn_failed(r.conn.ptr());
  r.at(12'051 * kMs, "tmf_wq/host0", "iscsi_unblock_session");
  r.set.session_change(r.session.ptr(), drv::SessionChange::unblock, "qedi_tmf_resp_work");
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::driver_session_state);
  BOOST_TEST(v.object == "iscsi_cls_session s0");
  BOOST_TEST(v.function == "qedi_tmf_resp_work");
  BOOST_TEST(v.message == "iscsi_unblock_session called by qedi_tmf_resp_work while conn s0c0 failed (12.020s)");
}

BOOST_AUTO_TEST_CASE(fires_when_anyone_sets_logged_in_or_cancels_recovery_while_the_conn_is_stopped) {
  Rig r;
  r.set.conn_stopped(r.conn.ptr(), StopFlag::recover);
  r.at(2 * kS, "iscsid", "iscsi_session_recovery_timedout");
  r.set.session_change(r.session.ptr(), drv::SessionChange::set_logged_in, "iscsi_some_libiscsi_path");
  r.set.session_change(r.session.ptr(), drv::SessionChange::recovery_timer_cancel, "iscsi_some_libiscsi_path");
  BOOST_TEST(r.count(InvariantId::driver_session_state) == 2u);
}

BOOST_AUTO_TEST_CASE(fires_when_a_session_is_unblocked_while_a_relogin_is_pending) {
  Rig r;
  r.session.obj().relogin_pending = true;
  r.set.session_change(r.session.ptr(), drv::SessionChange::unblock, "qedi_mark_device_available");
  BOOST_TEST(has(r.only().message, "while a relogin is pending"));
}

// The old definition fired on any qedi_* caller; a driver that blocks and
// unblocks a session nobody is recovering does no harm (p13's LU reset
// without a link failure).
BOOST_AUTO_TEST_CASE(silent_when_the_driver_blocks_and_unblocks_a_healthy_session) {
  Rig r;
  r.at(1 * kS, "tmf_wq/host0", "qedi_tmf_resp_work");
  r.set.session_change(r.session.ptr(), drv::SessionChange::block, "qedi_tmf_resp_work");
  r.set.session_change(r.session.ptr(), drv::SessionChange::unblock, "qedi_tmf_resp_work");
  r.set.session_change(r.session.ptr(), drv::SessionChange::block, "qedi_mark_device_missing");
  r.set.session_change(r.session.ptr(), drv::SessionChange::unblock, "qedi_mark_device_available");
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_CASE(fires_when_a_command_reaches_the_driver_during_recovery) {
  Rig r;
  Obj<ScsiCmnd> cmd{"cmd"};
  cmd.obj().tag = 9;
  r.set.conn_failed(r.conn.ptr());
  r.at(1 * kS, "queue/cpu0", "qedi_queuecommand");
  r.set.scsi_cmd_to_driver(r.session.ptr(), cmd.ptr());
  r.set.scsi_cmd_to_driver(r.session.ptr(), cmd.ptr());  // once per window
  BOOST_TEST(
      has(r.only().message, "scsi_cmnd s0 lun0 tag 9 issue 1 reached the driver while the session is in recovery"));
}

BOOST_AUTO_TEST_CASE(silent_when_libiscsi_blocks_and_the_relogin_unblocks) {
  Rig r;
  Obj<ScsiCmnd> cmd{"cmd"};
  r.set.conn_failed(r.conn.ptr());
  r.set.session_change(r.session.ptr(), drv::SessionChange::block, "iscsi_conn_failure");
  r.set.session_change(r.session.ptr(), drv::SessionChange::set_failed, "iscsi_conn_failure");
  r.set.session_change(r.session.ptr(), drv::SessionChange::recovery_timer_start, "iscsi_block_session");
  r.set.conn_stopped(r.conn.ptr(), StopFlag::recover);
  r.set.conn_started(r.conn.ptr());
  r.set.session_change(r.session.ptr(), drv::SessionChange::set_logged_in, "iscsi_conn_start");
  r.set.session_change(r.session.ptr(), drv::SessionChange::recovery_timer_cancel, "iscsi_unblock_session");
  r.set.session_change(r.session.ptr(), drv::SessionChange::unblock, "iscsi_conn_start");
  r.set.scsi_cmd_to_driver(r.session.ptr(), cmd.ptr());
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(data_race)

int list_lock = 0;

BOOST_AUTO_TEST_CASE(warns_on_an_unlocked_unordered_write_and_read) {
  Rig r;
  r.at(40'299 * kMs, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("active_cmd_list.next"), kern::AccessKind::write, false);
  r.at(40'300 * kMs, "qedi_thread/2", "qedi_process_cmd_cleanup_resp");
  r.clock->locks = {HeldLock{&list_lock, "list_lock"}};
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("active_cmd_list.next"), kern::AccessKind::read, false);
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("active_cmd_list.next"), kern::AccessKind::read,
                     false);               // once per site pair
  BOOST_TEST(r.set.violations().empty());  // a warning, never a violation
  const auto w = r.set.warnings();
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_TEST(w[0].id == InvariantId::data_race);
  BOOST_TEST(w[0].message ==
             "read of active_cmd_list.next under {list_lock} vs write in qedi_cleanup_all_io "
             "(tmf_wq/host0, 40.299s) under {}; no common lock, no handoff");
}

BOOST_AUTO_TEST_CASE(silent_under_a_common_lock_after_a_handoff_or_for_marked_accesses) {
  Rig r;
  int wq = 0;
  r.clock->locks = {HeldLock{&list_lock, "list_lock"}};
  r.at(1, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("active_cmd_count"), kern::AccessKind::write, false);
  r.at(2, "qedi_thread/2", "qedi_process_cmd_cleanup_resp");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("active_cmd_count"), kern::AccessKind::read, false);
  r.clock->locks.clear();
  r.at(3, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("cmd_cleanup_req"), kern::AccessKind::write, false);
  r.set.handoff_send(&wq);  // wake_up(&qedi_conn->wait_queue)
  r.at(4, "qedi_thread/2", "qedi_process_cmd_cleanup_resp");
  r.set.handoff_recv(&wq);
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("cmd_cleanup_req"), kern::AccessKind::read, false);
  r.at(5, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("flags"), kern::AccessKind::write, true);
  r.at(6, "qedi_thread/2", "qedi_process_cmd_cleanup_resp");
  r.set.field_access(r.conn.hdr(), 1, kern::FieldName("flags"), kern::AccessKind::read, true);
  BOOST_TEST(r.set.warnings().empty());
}

// A field's id is a hash of its name, computed at compile time: the same
// text gives the same id anywhere, and two names that share an id stop the
// run rather than being taken for one field.
BOOST_AUTO_TEST_CASE(field_ids_follow_the_text_and_a_shared_id_is_refused) {
  static_assert(kern::FieldName("tmf_state").id == kern::FieldName("tmf_state").id);
  static_assert(kern::FieldName("tmf_state").id != kern::FieldName("tmf_flags").id);
  const std::string copy = "tmf_state";  // another address, the same text
  BOOST_TEST(kern::FieldName(copy.c_str()).id == QEDISIM_FIELD("tmf_state").id);
  // 32-bit FNV-1a gives these two one id.
  const kern::FieldName a("field706648"), b("field1148122");
  BOOST_REQUIRE_EQUAL(a.id, b.id);
  Rig r;
  r.at(1, "tmf_wq/host0", "qedi_cleanup_all_io");
  r.set.field_access(r.conn.hdr(), 1, a, kern::AccessKind::write, false);
  BOOST_CHECK_THROW(r.set.field_access(r.session.hdr(), 1, b, kern::AccessKind::write, false), std::logic_error);
}

// Clocks longer than a few contexts are joined several entries at a time:
// an order that runs through the first entries of a long clock still holds.
BOOST_AUTO_TEST_CASE(orders_through_a_handoff_chain_across_many_contexts) {
  Rig r;
  int ch_a = 0, ch_b = 0;
  const kern::FieldName other("dd_data.flags"), x("cmd_cleanup_req");
  for (int i = 0; i < 8; ++i) {  // contexts ctx0..ctx7 take clock entries 0..7
    r.at(1 + i, ("ctx" + std::to_string(i)).c_str(), "touch");
    r.set.field_access(r.session.hdr(), 1, other, kern::AccessKind::read, false);
  }
  r.at(10, "ctx4", "send_a");
  r.set.handoff_send(&ch_a);
  r.at(11, "ctx1", "recv_a");
  r.set.handoff_recv(&ch_a);  // ctx1's clock now spans entries 0..4
  r.set.field_access(r.conn.hdr(), 1, x, kern::AccessKind::write, false);
  r.set.handoff_send(&ch_b);
  r.at(12, "ctx6", "reader");
  r.set.handoff_recv(&ch_b);  // entry 1 (ctx1's write) reaches ctx6 through the join
  r.set.field_access(r.conn.hdr(), 1, x, kern::AccessKind::read, false);
  BOOST_TEST(r.set.warnings().empty());
  r.at(13, "ctx7", "unordered_reader");
  r.set.field_access(r.conn.hdr(), 1, x, kern::AccessKind::read, false);
  const auto w = r.set.warnings();
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_TEST(w[0].function == "unordered_reader");
}

// A handoff channel is an object's address. When the object ends (a timer,
// work or request freed; Kernel::hb_retire), a later object at the same
// address starts a new channel: the old object's sends order nothing after.
BOOST_AUTO_TEST_CASE(a_retired_channel_orders_nothing_for_the_next_object_at_its_address) {
  Rig r;
  int timer = 0;  // one address, two timers in turn
  const kern::FieldName x("cmd_cleanup_req");
  r.at(1, "tmf_wq/host0", "first_owner");
  r.set.field_access(r.conn.hdr(), 1, x, kern::AccessKind::write, false);
  r.set.handoff_send(&timer);    // mod_timer of the first timer
  r.set.handoff_retire(&timer);  // ... which is freed; a second timer takes its address
  r.at(2, "timer", "second_callback");
  r.set.handoff_recv(&timer);  // the second timer's callback: no order from first_owner
  r.set.field_access(r.conn.hdr(), 1, x, kern::AccessKind::read, false);
  const auto w = r.set.warnings();
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_TEST(w[0].function == "second_callback");
  // Without the end in between, the same sequence is ordered.
  Rig q;
  q.at(1, "tmf_wq/host0", "first_owner");
  q.set.field_access(q.conn.hdr(), 1, x, kern::AccessKind::write, false);
  q.set.handoff_send(&timer);
  q.at(2, "timer", "callback");
  q.set.handoff_recv(&timer);
  q.set.field_access(q.conn.hdr(), 1, x, kern::AccessKind::read, false);
  BOOST_TEST(q.set.warnings().empty());
}

// The handoffs' shortcuts (a recv the receiver's clock already covers is
// skipped; a send that only moves the sender's own entry stores that entry)
// must decide exactly what plain vector clocks decide. Random sends, recvs,
// retires and accesses over a few channels and fields, against a reference
// written the textbook way: the same races, reported in the same order.
// Run with few contexts (the shortcuts apply) and with more than 64 (beyond
// the coverage bits: every handoff joins).
namespace {
struct Reference {
  using VClock = std::map<std::string, std::uint32_t>;
  struct Rec {
    std::string ctx;
    bool write = false;
    std::uint32_t epoch = 0;
  };
  struct Field {
    bool has_write = false;
    Rec last_write;
    std::vector<Rec> reads;
  };
  std::map<std::string, VClock> clocks;
  std::map<const void*, VClock> channels;
  std::map<std::string, Field> fields;
  std::set<std::string> reported;
  std::vector<std::string> races;  // "<field> <now fn> <prior fn>", in report order

  VClock& clock(const std::string& ctx) {
    const auto [it, added] = clocks.try_emplace(ctx);
    if (added) it->second[ctx] = 1;
    return it->second;
  }
  static void join(VClock& into, const VClock& from) {
    for (const auto& [k, v] : from) into[k] = std::max(into[k], v);
  }
  void send(const std::string& ctx, const void* ch) {
    VClock& c = clock(ctx);
    join(channels[ch], c);
    ++c[ctx];
  }
  void recv(const std::string& ctx, const void* ch) {
    VClock& c = clock(ctx);
    const auto it = channels.find(ch);
    if (it != channels.end()) join(c, it->second);
  }
  void retire(const void* ch) {
    const auto it = channels.find(ch);
    if (it != channels.end()) it->second.clear();
  }
  void check(const std::string& field, const Rec& now, const Rec& prior) {
    if (prior.ctx == now.ctx || !(now.write || prior.write)) return;
    VClock& c = clock(now.ctx);
    if (prior.epoch <= c[prior.ctx]) return;  // ordered before
    const std::string a = std::min(now.ctx, prior.ctx), b = std::max(now.ctx, prior.ctx);
    if (reported.insert(field + "|" + a + "|" + b).second) races.push_back(field + " " + now.ctx + " " + prior.ctx);
  }
  void access(const std::string& ctx, const std::string& field, bool write) {
    Field& f = fields[field];
    const Rec now{ctx, write, clock(ctx)[ctx]};
    if (f.has_write) check(field, now, f.last_write);
    if (write) {
      for (const Rec& r : f.reads) check(field, now, r);
      f.reads.clear();
      f.last_write = now;
      f.has_write = true;
      return;
    }
    for (Rec& r : f.reads)
      if (r.ctx == ctx) {
        r = now;
        return;
      }
    f.reads.push_back(now);
  }
};

// "<field> <now fn> <prior fn>" of a data_race warning (the function is the
// context's name here): "read of <field> under {} vs write in <fn> (...".
// By hand, not std::regex: GCC's -Wmaybe-uninitialized misfires on
// libstdc++'s regex under the sanitizers.
std::string race_of(const Violation& w) {
  const std::string& m = w.message;
  const std::size_t of = m.find(" of "), under = m.find(" under {} vs "), in = m.find(" in ", under),
                    paren = m.find(" (", in);
  BOOST_REQUIRE((m.rfind("read of ", 0) == 0 || m.rfind("write of ", 0) == 0));  // the regex's ^(?:read|write) of
  BOOST_REQUIRE(of != std::string::npos && under != std::string::npos && in != std::string::npos &&
                paren != std::string::npos);
  return m.substr(of + 4, under - of - 4) + " " + w.function + " " + m.substr(in + 4, paren - in - 4);
}

void check_handoffs_against_reference(int contexts, std::uint32_t seed) {
  CheckerConfig cfg;
  cfg.keep_per_key = 1u << 20;  // every race listed, none folded into a count
  Rig r(cfg);
  Reference ref;
  std::mt19937 rng(seed);
  int channels[4] = {};
  const char* field_names[3] = {"cmd_cleanup_req", "cmd_cleanup_cmpl", "active_cmd_count"};
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(contexts));
  for (int i = 0; i < contexts; ++i) names.push_back("ctx" + std::to_string(i));
  // Hot contexts most of the time, so that the same ones hand off repeatedly.
  const auto pick_ctx = [&] { return names[rng() % 4 == 0 ? rng() % contexts : rng() % 3]; };
  for (int step = 0; step < 4000; ++step) {
    const std::string& ctx = pick_ctx();
    r.at(step, ctx.c_str(), ctx.c_str());
    const void* ch = &channels[rng() % 4];
    switch (rng() % 8) {
      case 0:
      case 1:
        r.set.handoff_send(ch);
        ref.send(ctx, ch);
        break;
      case 2:
      case 3:
        r.set.handoff_recv(ch);
        ref.recv(ctx, ch);
        break;
      case 4:
        if (rng() % 4 == 0) {
          r.set.handoff_retire(ch);
          ref.retire(ch);
          break;
        }
        [[fallthrough]];
      default: {
        const char* field = field_names[rng() % 3];
        const bool write = rng() % 2 == 0;
        r.set.field_access(r.conn.hdr(), 1, kern::FieldName(field),
                           write ? kern::AccessKind::write : kern::AccessKind::read, false);
        ref.access(ctx, field, write);
      }
    }
  }
  std::vector<std::string> got;
  for (const Violation& w : r.set.warnings()) got.push_back(race_of(w));
  BOOST_TEST(got == ref.races, boost::test_tools::per_element());

  BOOST_TEST(!ref.races.empty());  // the sequence does race somewhere
}
}  // namespace

BOOST_AUTO_TEST_CASE(handoff_shortcuts_decide_as_plain_vector_clocks) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) check_handoffs_against_reference(6, seed);
}

BOOST_AUTO_TEST_CASE(handoffs_beyond_64_contexts_decide_as_plain_vector_clocks) {
  for (std::uint32_t seed = 1; seed <= 5; ++seed) check_handoffs_against_reference(70, seed);
}

namespace {
// DataRaceChecker's own site source: the context, time, function and lock
// chain the test sets. A chain always has the same locks, as a
// kern::Context's chain key does.
class ChainSites : public SiteSource {
 public:
  static constexpr const char* kCtx[4] = {"ctx0", "ctx1", "ctx2", "ctx3"};
  std::int64_t ns = 0;
  std::uint32_t ctx = 0;
  std::uint32_t chain = 1;  // 1: none held (kern::Context::kNoLocksChain)
  const char* fn = "-";

  Site site() const override { return Site{ns, kCtx[ctx], fn}; }
  std::vector<HeldLock> held_locks() const override {
    std::vector<HeldLock> v;
    const LightSite s = light_site();
    for (std::size_t i = 0; i < s.nlocks; ++i) v.push_back(HeldLock{s.locks[i].id, s.locks[i].name});
    return v;
  }
  LightSite light_site() const override {
    static int lock_a = 0, lock_b = 0;
    LightSite s;
    s.ns = ns;
    s.ctx_id = ctx + 1;
    s.ctx = kCtx[ctx];
    s.fn = fn;
    s.lock_chain = chain;
    if (chain == 2 || chain == 4) s.locks[s.nlocks++] = LockRef{&lock_a, "lock_a"};
    if (chain == 3 || chain == 4) s.locks[s.nlocks++] = LockRef{&lock_b, "lock_b"};
    return s;
  }
  DataRaceChecker::AccessSite at() const { return DataRaceChecker::AccessSite{ns, ctx + 1, chain, fn, *this}; }
};

std::vector<std::string> texts(const Findings& f) {
  std::vector<std::string> out;
  for (const Violation& w : f.warnings()) out.push_back(format_violation(w));
  return out;
}
}  // namespace

// try_access is access() for the accesses the tables decide and refuses the
// rest, changing nothing: one checker sees every access through access(),
// the other through try_access first. Their warnings, which quote the
// prior access's time, function and locks, are the same.
BOOST_AUTO_TEST_CASE(try_access_decides_as_access_does) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    Findings plain(1u << 20), fast(1u << 20);
    DataRaceChecker a(plain), b(fast);
    ChainSites sites;
    std::mt19937 rng(seed);
    kern::ObjectHeader objs[3];
    for (int i = 0; i < 3; ++i) {
      objs[i].type = "iscsi_conn";
      objs[i].name = "c" + std::to_string(i);
      objs[i].incarnation = 1;
      objs[i].live = true;
    }
    int channels[3] = {};
    const kern::FieldName fields[3] = {kern::FieldName("cmd_cleanup_req"), kern::FieldName("cmd_cleanup_cmpl"),
                                       kern::FieldName("active_cmd_count")};
    // Many functions: a race is reported once per field and pair of
    // functions, and the sequence should not run out of new pairs.
    const char* fns[16] = {"f0", "f1", "f2",  "f3",  "f4",  "f5",  "f6",  "f7",
                           "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15"};
    std::size_t taken = 0, refused = 0;
    for (int step = 0; step < 3000; ++step) {
      sites.ns = step;
      sites.ctx = rng() % 4;
      sites.chain = 1 + rng() % 4;
      sites.fn = fns[rng() % 16];
      const void* ch = &channels[rng() % 3];
      const unsigned op = rng() % 20;
      if (op < 3) {
        a.send(sites.ctx + 1, sites, ch);
        b.send(sites.ctx + 1, sites, ch);
      } else if (op < 6) {
        a.recv(sites.ctx + 1, sites, ch);
        b.recv(sites.ctx + 1, sites, ch);
      } else if (op == 6) {
        a.retire(ch);
        b.retire(ch);
      } else if (op == 7) {
        ++objs[rng() % 3].incarnation;  // the slot reused
      } else {
        const kern::ObjectHeader& o = objs[rng() % 3];
        const kern::FieldName& f = fields[rng() % 3];
        const bool write = rng() % 2 == 0, marked = rng() % 5 == 0;
        a.access(sites.at(), o, o.incarnation, f.id, f.name, write, marked);
        if (b.try_access(sites.ctx + 1, sites.chain, sites.ns, sites.fn, &o, o.incarnation, f.id, write, marked)) {
          ++taken;
        } else {
          ++refused;
          b.access(sites.at(), o, o.incarnation, f.id, f.name, write, marked);
        }
      }
      BOOST_REQUIRE_EQUAL(a.accesses(), b.accesses());
    }
    const std::vector<std::string> want = texts(plain), got = texts(fast);
    BOOST_TEST(got == want, boost::test_tools::per_element());
    BOOST_TEST(want.size() > 100u);   // the sequence races often
    BOOST_TEST(taken > refused / 4);  // and both ways are taken
    BOOST_TEST(refused > 0u);
    BOOST_TEST_MESSAGE("seed " << seed << ": " << want.size() << " races, " << taken << " decided by the tables, "
                               << refused << " by access()");
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(hung_task)

BOOST_AUTO_TEST_CASE(fires_once_for_a_context_blocked_past_the_limit) {
  Rig r;
  kern::Context iscsid("iscsid");
  iscsid.push_function("iscsi_conn_teardown");
  r.at(38 * kS, "iscsid", "iscsi_conn_teardown");
  r.set.wait_begin(iscsid, "teardown poll for tasks", false);
  r.set.tick(100 * kS);
  BOOST_TEST(r.clean());
  r.set.tick(170 * kS);
  r.set.end_of_run(600 * kS, false);  // once per wait
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::hung_task);
  BOOST_TEST(v.time_ns == 158 * kS);
  BOOST_TEST(v.context == "iscsid");
  BOOST_TEST(v.function == "iscsi_conn_teardown");
  BOOST_TEST(v.message == "blocked 120.000s in teardown poll for tasks (since 38.000s)");
}

// A tick before any open wait can be due skips the scan; a wait that ends
// first, or begins later, leaves the next one's limit still checked.
BOOST_AUTO_TEST_CASE(fires_for_a_later_wait_after_an_earlier_one_ended) {
  Rig r;
  kern::Context eh("eh/host0"), iscsid("iscsid");
  r.at(10 * kS, "eh/host0", "iscsi_eh_abort");
  r.set.wait_begin(eh, "ehwait", false);  // due at 130 s
  r.at(40 * kS, "iscsid", "iscsi_conn_teardown");
  r.set.wait_begin(iscsid, "teardown poll for tasks", false);  // due at 160 s
  r.at(50 * kS, "eh/host0", "iscsi_eh_abort");
  r.set.wait_end(eh, false);  // the earlier wait is gone
  r.set.tick(129 * kS);
  r.set.tick(140 * kS);  // past the gone wait's limit: nothing
  BOOST_TEST(r.clean());
  r.set.tick(159 * kS);
  BOOST_TEST(r.clean());
  r.set.tick(161 * kS);
  const Violation v = r.only();
  BOOST_TEST(v.context == "iscsid");
  BOOST_TEST(v.time_ns == 160 * kS);
}

BOOST_AUTO_TEST_CASE(fires_on_a_global_deadlock_with_the_wait_for_chain) {
  Rig r;
  kern::Context eh("eh/host0"), wq("tmf_wq/host0");
  kern::Mutex eh_mutex("eh_mutex");
  eh.push_function("iscsi_eh_device_reset");
  wq.push_function("qedi_tmf_work");
  eh.acquired(&eh_mutex);
  r.set.wait_begin(eh, "flush_work", false);
  r.set.wait_begin(wq, "eh_mutex", false);
  r.set.no_pending_activity(5 * kS);
  const Violation v = r.only();
  BOOST_TEST(v.context == "checker");
  BOOST_TEST(has(v.message, "global deadlock"));
  BOOST_TEST(has(v.message, "tmf_wq/host0 waits on eh_mutex in qedi_tmf_work (held by eh/host0)"));
  eh.released(&eh_mutex);
}

BOOST_AUTO_TEST_CASE(silent_for_short_waits_and_idle_workers) {
  Rig r;
  kern::Context eh("eh/host0"), worker("tmf_wq/host0");
  r.set.wait_begin(worker, "work", true);
  r.at(1 * kS, "eh/host0", "iscsi_exec_task_mgmt_fn");
  r.set.wait_begin(eh, "ehwait", false);
  r.at(16 * kS, "eh/host0", "iscsi_exec_task_mgmt_fn");
  r.set.wait_end(eh, true);
  r.set.no_pending_activity(500 * kS);
  r.set.end_of_run(600 * kS, false);
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(unnecessary_escalation)

Obj<ScsiCmnd> timed_out_cmd() {
  Obj<ScsiCmnd> c{"cmd"};
  c.obj().tag = 3;
  return c;
}

// An abort whose work cannot allocate its work map with GFP_ATOMIC.
void atomic_alloc_abort(Rig& r, const Obj<ScsiCmnd>& cmd) {
  r.at(30 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_begin(cmd.ptr());
  r.at(30'001 * kMs, "tmf_wq/host0", "qedi_tmf_work");
  r.set.alloc_failed(Gfp::atomic, "qedi_tmf_work", true, 0);
}

BOOST_AUTO_TEST_CASE(fires_when_a_gfp_atomic_failure_in_a_sleeping_context_escalates) {
  Rig r;
  auto cmd = timed_out_cmd();
  atomic_alloc_abort(r, cmd);
  r.at(45 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_end(cmd.ptr(), false);
  r.at(45'010 * kMs, "eh/host0", "scsi_eh_bus_device_reset");
  r.set.escalation(cmd.ptr(), EhLevel::device);
  const Violation v = r.only();
  BOOST_TEST(v.id == InvariantId::unnecessary_escalation);
  BOOST_TEST(v.context == "scsi_tmf/host0");
  BOOST_TEST(v.object == "scsi_cmnd s0 lun0 tag 3 issue 1");
  BOOST_TEST(v.function == "iscsi_eh_abort");
  BOOST_TEST(v.message ==
             "abort FAILED, device reset next; ABORT never sent: GFP_ATOMIC allocation failed in "
             "qedi_tmf_work (tmf_wq/host0, 30.001s), which could sleep");
}

// Another session's allocation failure is not this abort's cause. (Found
// by swarm: session 0's failed TMF-response buffer was blamed for session
// 3's abort, whose work never ran before its TMF timed out.)
BOOST_AUTO_TEST_CASE(silent_when_the_failed_allocation_was_for_another_session) {
  Rig r;
  auto cmd = timed_out_cmd();
  r.at(30 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_begin(cmd.ptr());
  r.at(30'001 * kMs, "qedi_thread/0", "qedi_process_tmf_resp");
  r.set.alloc_failed(Gfp::atomic, "qedi_process_tmf_resp", true, 1);
  r.at(45 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_end(cmd.ptr(), false);
  r.at(45'010 * kMs, "eh/host0", "scsi_eh_bus_device_reset");
  r.set.escalation(cmd.ptr(), EhLevel::device);
  BOOST_TEST(r.count(InvariantId::unnecessary_escalation) == 0u);
}

// The mem.alloc failpoint that makes the allocation fail is reported as an
// injected fault too; it is judged by alloc_failed, not as an outside cause.
BOOST_AUTO_TEST_CASE(fires_when_the_gfp_atomic_failure_came_from_the_mem_alloc_failpoint) {
  Rig r;
  auto cmd = timed_out_cmd();
  r.at(30 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_begin(cmd.ptr());
  r.at(30'001 * kMs, "tmf_wq/host0", "qedi_tmf_work");
  r.set.fault_injected(InjectedFault{"mem.alloc", std::nullopt, FaultKind::fail, 0, 30'001 * kMs});
  r.set.alloc_failed(Gfp::atomic, "qedi_tmf_work", true, 0);
  r.at(45 * kS, "scsi_tmf/host0", "iscsi_conn_failure");
  r.set.conn_failed(r.conn.ptr());  // raised by the abort's own TMF timeout
  r.at(45 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_end(cmd.ptr(), false);
  r.at(45'010 * kMs, "eh/host0", "scsi_eh_bus_device_reset");
  r.set.escalation(cmd.ptr(), EhLevel::device);
  BOOST_TEST(r.count(InvariantId::unnecessary_escalation) == 1u);
}

BOOST_AUTO_TEST_CASE(fires_when_the_victim_cleanup_wait_missed_its_cqe) {
  Rig r;
  auto cmd = timed_out_cmd();
  r.at(30 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_begin(cmd.ptr());
  r.at(30'001 * kMs, "tmf_wq/host0", "qedi_wait_for_cleanup_request");
  r.set.cleanup_posted(9, KPtr<IscsiTask>());
  r.set.cleanup_wait_begin(r.conn.ptr(), drv::CleanupWaitKind::abort_victim, {9}, 35'001 * kMs);
  r.at(30'002 * kMs, "qedi_thread/0", "qedi_process_cmd_cleanup_resp");
  r.set.cleanup_cqe_handled(9);
  r.at(35'001 * kMs, "tmf_wq/host0", "qedi_wait_for_cleanup_request");
  r.set.cleanup_wait_end(r.conn.ptr(), drv::CleanupWaitKind::abort_victim, true);
  r.at(45 * kS, "scsi_tmf/host0", "iscsi_eh_abort");
  r.set.abort_end(cmd.ptr(), false);
  r.set.escalation(cmd.ptr(), EhLevel::device);
  BOOST_TEST(r.count(InvariantId::unnecessary_escalation) == 1u);
  BOOST_TEST(r.count(InvariantId::cleanup_stall) == 1u);
}

BOOST_AUTO_TEST_CASE(silent_when_the_target_dropped_the_abort_or_memory_was_really_short) {
  Rig r;
  auto cmd = timed_out_cmd();
  atomic_alloc_abort(r, cmd);
  r.set.fault_injected(InjectedFault{"target.tmf_rsp", 0u, FaultKind::drop, 0, 30'002 * kMs});
  r.set.abort_end(cmd.ptr(), false);
  r.set.escalation(cmd.ptr(), EhLevel::device);

  auto cmd2 = timed_out_cmd();
  cmd2.obj().tag = 4;
  r.set.abort_begin(cmd2.ptr());
  r.set.alloc_failed(Gfp::noio, "qedi_tmf_work", true, 0);  // allowed to sleep: real OOM
  r.set.abort_end(cmd2.ptr(), false);
  r.set.escalation(cmd2.ptr(), EhLevel::device);

  auto cmd3 = timed_out_cmd();
  cmd3.obj().tag = 5;
  r.set.abort_begin(cmd3.ptr());
  r.set.abort_end(cmd3.ptr(), true);  // aborted: nothing escalates
  BOOST_TEST(r.clean());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(checker_set)

BOOST_AUTO_TEST_CASE(findings_come_out_in_time_order_and_repeats_fold) {
  CheckerConfig cfg;
  cfg.keep_per_key = 2;
  Rig r(cfg);
  kern::Context iscsid("iscsid");
  r.at(10 * kS, "iscsid", "iscsi_conn_teardown");
  r.set.wait_begin(iscsid, "teardown poll for tasks", false);
  for (int i = 0; i < 5; ++i) {
    r.at((200 + i) * kS, "qedi_thread/0", "qedi_clear_task_idx");
    r.set.tid_cleared(static_cast<std::uint16_t>(0x10 + i), false);
  }
  r.set.tick(300 * kS);  // hung_task stamped at 130 s, recorded later
  const auto v = r.set.violations();
  BOOST_REQUIRE_EQUAL(v.size(), 3u);
  BOOST_TEST(v[0].id == InvariantId::hung_task);
  BOOST_TEST(v[1].object == "tid 0x010");
  BOOST_TEST(v[1].count == 1u);
  BOOST_TEST(v[2].object == "tid 0x011");
  BOOST_TEST(v[2].count == 4u);
}

BOOST_AUTO_TEST_CASE(object_keys_follow_the_incarnation_not_the_address) {
  Rig r;
  auto t = r.task("s0 itt 0x05", 1);
  const ObjRef first = ref_of(t->ptr());
  const KPtr<IscsiTask> stale = t->ptr();
  t->free(1, "iscsi_free_task", "x");
  t->reuse(2);
  BOOST_TEST(ref_of(stale).key.text() == first.key.text());  // a stale pointer still names the first task
  BOOST_TEST((ref_of(stale).key == first.key));
  BOOST_TEST((ref_of(t->ptr()).key != first.key));  // the slot's next incarnation is another task
  BOOST_TEST(ref_of(t->ptr()).desc == "iscsi_task s0 itt 0x05 #2");
}

// Descriptions are formatted on first use, from what ref_of saw then: the
// text of an object or a scsi_cmnd, shared by copies, as eager text was.
BOOST_AUTO_TEST_CASE(descriptions_format_lazily_what_was_seen) {
  const Desc task = Desc::object("iscsi_task", "s0 itt 0x05", 7, true);
  const Desc copy = task;  // NOLINT(performance-unnecessary-copy-initialization): the copy is what is tested
  BOOST_TEST(task == "iscsi_task s0 itt 0x05 #7");
  BOOST_TEST(&copy.str() == &task.str());  // one text for every copy
  BOOST_TEST(Desc::object("iscsi_conn", "s0c0", 3, false).str() == "iscsi_conn s0c0");
  BOOST_TEST(Desc::object("qedi_endpoint", "", 1, false).str() == "qedi_endpoint");
  BOOST_TEST(Desc::object("iscsi_task", "", 12, true).str() == "iscsi_task #12");
  BOOST_TEST(Desc::scsi_cmnd(1, 2, 345, 6).str() == "scsi_cmnd s1 lun2 tag 345 issue 6");
  BOOST_TEST(Desc("NULL").str() == "NULL");
  BOOST_TEST(!Desc().is_set());
  BOOST_TEST(Desc().empty());
  BOOST_TEST(fmt::format("{}", Desc::scsi_cmnd(0, 0, 1, 1)) == "scsi_cmnd s0 lun0 tag 1 issue 1");
}

// A description released makes room for the next (Desc::Rep's free list):
// the next one carries its own text, formatted or not, and one still held
// keeps its own.
BOOST_AUTO_TEST_CASE(released_descriptions_make_room_for_new_ones) {
  const Desc kept = Desc::scsi_cmnd(0, 1, 2, 1);
  for (std::uint64_t round = 0; round < 3; ++round) {
    std::vector<Desc> live;  // alive together: each its own storage
    for (std::uint64_t tag = 0; tag < 20; ++tag) {
      live.push_back(Desc::scsi_cmnd(round, 0, tag, 1));
      live.push_back(Desc::object("iscsi_task", "s0 itt 0x05", static_cast<std::uint32_t>(tag), true));
      if (tag % 2) BOOST_TEST(live.back().str() == fmt::format("iscsi_task s0 itt 0x05 #{}", tag));
    }
    for (std::uint64_t tag = 0; tag < 20; ++tag) {
      BOOST_TEST(live[2 * tag].str() == fmt::format("scsi_cmnd s{} lun0 tag {} issue 1", round, tag));
      BOOST_TEST(live[2 * tag + 1].str() == fmt::format("iscsi_task s0 itt 0x05 #{}", tag));
    }
  }
  BOOST_TEST(kept.str() == "scsi_cmnd s0 lun1 tag 2 issue 1");
}

// Name::of_literal's cache is direct-mapped by address: literals that share
// a slot still get their own names, whatever the order of the lookups.
BOOST_AUTO_TEST_CASE(literal_names_survive_cache_collisions) {
  std::deque<std::string> texts;  // stable addresses, like literals
  for (int i = 0; i < 2000; ++i) texts.push_back("fn_" + std::to_string(i));
  for (int round = 0; round < 3; ++round)
    for (std::size_t i = 0; i < texts.size(); i += (round + 1)) {
      const Name n = Name::of_literal(texts[i].c_str());
      BOOST_TEST(n.str() == texts[i]);
      BOOST_TEST((n == Name(texts[i])));
    }
}

// Maps keyed by ObjKey iterate as the text keys they replaced did: the
// order is the texts' order, over types that prefix one another, ids of
// different widths and scsi_cmnd issues (decimal text: "|10" < "|9").
BOOST_AUTO_TEST_CASE(object_keys_order_as_their_text) {
  const char* types[] = {"iscsi_conn", "iscsi_conn_x", "iscsi_con", "iscsi_task", "scsi_cmnd", "a", "z"};
  std::vector<ObjKey> keys{ObjKey{}};
  for (const char* type : types)
    for (const std::uint64_t id : {1ull, 9ull, 10ull, 42ull, 999'999'999'999ull}) {
      keys.push_back(ObjKey{type, id, false, 0});
      for (const std::uint64_t issue : {0ull, 1ull, 9ull, 10ull, 100ull}) keys.push_back(ObjKey{type, id, true, issue});
    }
  BOOST_TEST(ObjKey{}.text().empty());
  BOOST_TEST((ObjKey{"scsi_cmnd", 42, true, 3}.text() == "scsi_cmnd|000000000042|3"));
  for (const ObjKey& a : keys)
    for (const ObjKey& b : keys) {
      BOOST_TEST((a < b) == (a.text() < b.text()), a.text() << " < " << b.text());
      BOOST_TEST((a == b) == (a.text() == b.text()), a.text() << " == " << b.text());
    }
}

// Site names are interned: equal texts are one name whatever the source
// (literal, std::string, a literal found by address), they order as their
// texts, and formatting prints the text.
BOOST_AUTO_TEST_CASE(site_names_intern_and_order_as_their_text) {
  const std::string built = std::string("qedi_") + "thread/0";
  const Name a("qedi_thread/0"), b(built), c = Name::of_literal("qedi_thread/0");
  BOOST_TEST((a == b));
  BOOST_TEST((a == c));
  BOOST_TEST(a.c_str() == b.c_str());  // one text in memory
  BOOST_TEST((Name() == Name("")));
  BOOST_TEST(Name().empty());
  const char* texts[] = {"", "-", "a", "ab", "b", "eh/host0", "eh/host1", "fw", "qedi_thread/0", "qedi_thread/10"};
  for (const char* x : texts)
    for (const char* y : texts) {
      BOOST_TEST((Name(x) < Name(y)) == (std::string(x) < std::string(y)), x << " < " << y);
      BOOST_TEST((Name(x) == Name(y)) == (std::string(x) == std::string(y)), x << " == " << y);
    }
  BOOST_TEST(fmt::format("[{:>5}]", Name("fw")) == "[   fw]");
  BOOST_TEST(where(Site{1'500'000'000, "eh/host0", "iscsi_eh_abort"}) == "(eh/host0, 1.500s)");
}

BOOST_AUTO_TEST_SUITE_END()
