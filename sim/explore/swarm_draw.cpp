#include "sim/explore/swarm_draw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "sim/explore/seeds.h"
#include "sim/failpoints/catalog.h"

namespace qedisim {

namespace {

// The draws use only the engine's raw output (no std:: distributions, whose
// results differ between standard libraries), so a seed means the same
// scenario on every build of the same source.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::uint64_t below(std::uint64_t n) { return n <= 1 ? 0 : g_() % n; }
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  bool one_in(std::uint64_t n) { return below(n) == 0; }
  bool coin() { return (g_() >> 63) != 0; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  // Log-uniform in [lo, hi], whole microseconds.
  Duration log_between(Duration lo, Duration hi) {
    const double a = std::log(static_cast<double>(std::max<std::int64_t>(lo.ns, 1000)));
    const double b = std::log(static_cast<double>(std::max<std::int64_t>(hi.ns, 1000)));
    const double u = static_cast<double>(g_() >> 11) / static_cast<double>(1ull << 53);
    const auto ns = static_cast<std::int64_t>(std::exp(a + (b - a) * u));
    return Duration{std::clamp<std::int64_t>(ns / 1000 * 1000, lo.ns, hi.ns)};
  }
  std::uint64_t log_count(std::uint64_t lo, std::uint64_t hi) {
    const double a = std::log(static_cast<double>(lo));
    const double b = std::log(static_cast<double>(hi) + 1);
    const double u = static_cast<double>(g_() >> 11) / static_cast<double>(1ull << 53);
    return std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::exp(a + (b - a) * u)), lo, hi);
  }

 private:
  std::mt19937_64 g_;
};

using D = Duration;

const std::vector<std::string_view> kKinds = {
    "scsi_drop",       // target.scsi_rsp dropped (a probability or the n-th)
    "scsi_delay",      // target.scsi_rsp delayed
    "tmf_drop",        // target.tmf_rsp dropped
    "tmf_delay",       // target.tmf_rsp delayed
    "tmf_respond",     // the target answers a TMF "no task" / "rejected" / "complete" whatever it finds
    "logout_rsp",      // target.logout_rsp dropped or delayed
    "slow_cleanup",    // fw.cleanup: the firmware is slow to clean up a task
    "slow_cqe",        // fw.cqe: CQEs posted late (per type, CQ, occurrence)
    "alloc_fail",      // mem.alloc fails at one of the model's allocation sites
    "host_holds",      // the named qedi.* / libiscsi.* windows held open
    "link_flap",       // link.down, then usually link.up
    "resets",          // sg_reset-style LU, target and host resets
    "aborts",          // the error handler aborts a command of a stream
    "teardown",        // iscsid logout / terminate / ep_disconnect steps, or hba.remove
    "stalls",          // sched.stall: any kernel thread held at any plain field access
    "short_timeouts",  // scsi, TMF, recovery, logout timeouts (iscsid.conf, sysfs) well below their defaults
    "slow_target",     // target and firmware latencies drawn
    "pings",           // NOP-Out interval and timeout drawn
};

// The host windows of the catalog: the qedi.* and libiscsi.* steps, matched
// by session (the late io thread, qedi.io_thread.cqe, is slow_cqe's).
std::vector<std::string> host_hold_points() {
  std::vector<std::string> v;
  for (const auto& p : point_catalog())
    if ((p.name.rfind("qedi.", 0) == 0 || p.name.rfind("libiscsi.", 0) == 0) && (p.match_keys & kMatchSession) != 0)
      v.emplace_back(p.name);
  return v;
}

// The allocation sites the model has (docs/scenarios.md, mem.alloc sites).
const std::vector<std::string> kAllocSites = {"qedi_abort_work", "qedi_process_tmf_resp",
                                              "qedi_conn_alloc_login_resources"};

class Drawer {
 public:
  // The engine starts from a splitmix step of the seed, as Failpoints' does,
  // so the scenario's draws and the run's own (jitter) do not share a stream.
  explicit Drawer(std::uint64_t seed) : r_(splitmix64_mix(seed + 0x5eed5a4a4d5eed5aull)) {
    s_.schema = 2;
    s_.name = "swarm";
    s_.seed = seed;
  }

  SwarmDraw draw() {
    topology();
    workload();
    param("sched.jitter", r_.pick(std::vector<D>{D::from_us(1), D::from_us(10), D::from_us(50), D::from_us(500)}));
    // Each fault kind on with probability 1/2 (swarm testing): a run stresses
    // a few things hard rather than everything a little.
    for (auto k : kKinds)
      if (r_.coin()) kinds_.emplace_back(k);
    for (const auto& k : kinds_) fault(k);
    SwarmDraw d;
    d.scenario = std::move(s_);
    d.kinds = std::move(kinds_);
    return d;
  }

 private:
  void param(const char* key, Duration v) {
    set_param(s_.params, key, v);
    s_.written_params.emplace_back(key);
  }
  void param(const char* key, std::uint64_t v) {
    set_param(s_.params, key, v);
    s_.written_params.emplace_back(key);
  }

  std::uint32_t session() { return static_cast<std::uint32_t>(r_.below(s_.sessions.size())); }
  std::uint32_t max_luns() const {
    std::uint32_t m = 1;
    for (const auto& x : s_.sessions) m = std::max(m, x.luns);
    return m;
  }
  // An instant of the run: mostly early, where the I/O is.
  Duration when() { return r_.log_between(D::from_ms(1), std::min(horizon_, D::from_s(20))); }

  void topology() {
    const std::uint64_t roll = r_.below(100);
    const std::uint64_t n = roll < 35 ? 1 : roll < 65 ? 2 : roll < 85 ? r_.between(3, 4) : r_.between(5, 8);
    s_.sessions.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      SessionSpec spec;
      spec.luns = static_cast<std::uint32_t>(r_.one_in(2) ? 1 : r_.between(2, 4));
      if (r_.one_in(4)) spec.cmds_max = static_cast<std::uint32_t>(16u << r_.below(4));  // 16..128
      s_.sessions.push_back(spec);
    }
    if (r_.coin()) param("hba.cpus", r_.between(1, 4));
    if (r_.one_in(4)) param("hba.tids", r_.pick(std::vector<std::uint64_t>{64, 128, 512}));
    s_.stop_at = r_.pick(std::vector<D>{D::from_s(5), D::from_s(20), D::from_s(60), D::from_s(120)});
    horizon_ = Duration{s_.stop_at.ns / 2};
  }

  void workload() {
    const std::uint64_t streams = r_.between(1, 6);
    for (std::uint64_t i = 0; i < streams; ++i) {
      WorkloadStream w;
      w.session = session();
      w.lun = static_cast<std::uint32_t>(r_.below(s_.sessions[w.session].luns));
      w.ops = r_.log_count(1, 300);
      w.depth = static_cast<std::uint32_t>(r_.log_count(1, 16));
      if (r_.coin()) w.start = r_.log_between(D::from_ms(1), D::from_s(2));
      w.op = r_.coin() ? OpKind::read : OpKind::write;
      w.size = r_.pick(std::vector<std::uint64_t>{512, 4096, 4096, 65536});
      s_.workload.push_back(w);
    }
  }

  Failpoint& failpoint(const char* point) {
    Failpoint f;
    f.point = point;
    s_.failpoints.push_back(f);
    return s_.failpoints.back();
  }
  void maybe_session(Match& m) {
    if (r_.coin()) m.session = session();
  }
  void delay_range(FailAction& a, const std::vector<D>& maxima) {
    a.kind = FailAction::Kind::delay;
    const D hi = r_.pick(maxima);
    a.delay = r_.one_in(3) ? D{hi.ns / 10 / 1000 * 1000} : D{};
    a.delay_max = hi;
  }
  void drop(FailAction& a, const std::vector<double>& probabilities) {
    a.kind = FailAction::Kind::drop;
    a.drop_probability = r_.pick(probabilities);
  }
  void maybe_function(Match& m) {
    if (r_.coin()) m.function = static_cast<TmfFunction>(r_.below(3));
  }
  void maybe_nth(Match& m, std::uint64_t hi) {
    if (r_.one_in(3)) m.nth.list = {r_.between(1, hi)};
  }

  void fault(const std::string& kind) {
    if (kind == "scsi_drop") {
      Failpoint& f = failpoint("target.scsi_rsp");
      maybe_session(f.match);
      if (r_.one_in(4)) {
        const std::uint32_t luns = f.match.session ? s_.sessions[*f.match.session].luns : max_luns();
        f.match.lun = static_cast<std::uint32_t>(r_.below(luns));
      }
      if (r_.one_in(3)) {
        f.match.nth.list = {r_.between(1, 20)};
        f.action.kind = FailAction::Kind::drop;
      } else {
        drop(f.action, {0.01, 0.05, 0.2, 0.5});
      }
    } else if (kind == "scsi_delay") {
      Failpoint& f = failpoint("target.scsi_rsp");
      maybe_session(f.match);
      delay_range(f.action, {D::from_ms(5), D::from_ms(50), D::from_ms(500), D::from_s(2), D::from_s(5)});
    } else if (kind == "tmf_drop") {
      Failpoint& f = failpoint("target.tmf_rsp");
      maybe_session(f.match);
      maybe_function(f.match);
      drop(f.action, {0.3, 0.5, 1.0});
    } else if (kind == "tmf_delay") {
      Failpoint& f = failpoint("target.tmf_rsp");
      maybe_session(f.match);
      maybe_function(f.match);
      delay_range(f.action, {D::from_ms(10), D::from_ms(500), D::from_s(3), D::from_s(20)});
    } else if (kind == "tmf_respond") {
      Failpoint& f = failpoint("target.tmf_rsp");
      maybe_function(f.match);
      f.action.kind = FailAction::Kind::respond;
      f.action.respond = static_cast<TmfRespond>(r_.below(3));
    } else if (kind == "logout_rsp") {
      Failpoint& f = failpoint("target.logout_rsp");
      if (r_.coin())
        drop(f.action, {0.5, 1.0});
      else
        delay_range(f.action, {D::from_ms(100), D::from_s(5), D::from_s(20)});
    } else if (kind == "slow_cleanup") {
      Failpoint& f = failpoint("fw.cleanup");
      maybe_session(f.match);
      delay_range(f.action, {D::from_ms(10), D::from_s(1), D::from_s(6), D::from_s(12)});
    } else if (kind == "slow_cqe") {
      Failpoint& f = failpoint("fw.cqe");
      if (r_.coin()) f.match.type = static_cast<CqeType>(r_.below(4));
      if (r_.one_in(3)) f.match.cq = static_cast<std::uint32_t>(r_.below(s_.params.hba_cpus));
      maybe_nth(f.match, 3);
      delay_range(f.action, {D::from_ms(1), D::from_ms(100), D::from_s(2), D::from_s(15)});
      if (r_.coin()) {  // and a late io thread: its CPU's CQEs wait behind the held one
        Failpoint& io = failpoint("qedi.io_thread.cqe");
        if (r_.coin()) io.match.cq = static_cast<std::uint32_t>(r_.below(s_.params.hba_cpus));
        io.match.nth.list = {r_.between(1, 30)};  // once: the thread is late from that CQE on
        delay_range(io.action, {D::from_ms(1), D::from_ms(100), D::from_s(2), D::from_s(15)});
      }
    } else if (kind == "alloc_fail") {
      Failpoint& f = failpoint("mem.alloc");
      f.match.site = r_.pick(kAllocSites);
      const std::uint64_t how = r_.below(3);
      if (how == 0) f.match.nth.list = {r_.between(1, 3)};
      if (how == 1) f.match.nth.every = r_.between(2, 4);
      f.action.kind = FailAction::Kind::fail;
    } else if (kind == "host_holds") {
      static const std::vector<std::string> points = host_hold_points();
      for (std::uint64_t i = 0, n = r_.between(1, 3); i < n; ++i) {
        Failpoint& f = failpoint("");
        f.point = r_.pick(points);
        maybe_session(f.match);
        delay_range(f.action, {D::from_ms(10), D::from_ms(100), D::from_s(1), D::from_s(4)});
      }
    } else if (kind == "link_flap") {
      for (std::uint64_t i = 0, n = r_.between(1, 2); i < n; ++i) {
        const std::uint32_t sess = session();
        const D t = when();
        action(t, ActionKind::link_down).session = sess;
        if (!r_.one_in(4))
          action(D{t.ns + r_.log_between(D::from_ms(1), D::from_s(10)).ns}, ActionKind::link_up).session = sess;
      }
    } else if (kind == "resets") {
      for (std::uint64_t i = 0, n = r_.between(1, 3); i < n; ++i) {
        ActionArgs& a = action(when(), ActionKind::scsi_reset);
        a.session = session();
        a.lun = static_cast<std::uint32_t>(r_.below(s_.sessions[a.session].luns));
        const std::uint64_t roll = r_.below(100);
        a.level = roll < 60 ? ResetLevel::device : roll < 85 ? ResetLevel::target : ResetLevel::host;
      }
    } else if (kind == "aborts") {
      for (std::uint64_t i = 0, n = r_.between(1, 3); i < n; ++i) {
        ActionArgs& a = action(when(), ActionKind::scsi_abort);
        a.stream = static_cast<std::uint32_t>(r_.below(s_.workload.size()));
        a.session = s_.workload[a.stream].session;
        a.op = r_.below(s_.workload[a.stream].ops);
      }
    } else if (kind == "teardown") {
      const std::uint32_t sess = session();
      const D t = when();
      switch (r_.below(6)) {
        case 0:
          action(t, ActionKind::iscsid_logout).session = sess;
          break;
        case 1: {
          ActionArgs& a = action(t, ActionKind::iscsid_terminate);
          a.session = sess;
          a.unbind_target = !r_.one_in(4);
          break;
        }
        case 2:
          action(t, ActionKind::iscsid_ep_disconnect).session = sess;
          break;
        case 3: {  // what iscsid does on a connection error, then a relogin
          action(t, ActionKind::iscsid_ep_disconnect).session = sess;
          ActionArgs& a = action(t, ActionKind::iscsid_stop_conn);
          a.session = sess;
          a.flag = StopFlag::recover;
          action(D{t.ns + r_.log_between(D::from_ms(1), D::from_s(2)).ns}, ActionKind::iscsid_relogin).session = sess;
          break;
        }
        case 4:  // the teardown steps back to back, as a shrunk p05/p06 file has them
          action(t, ActionKind::iscsid_ep_disconnect).session = sess;
          action(t, ActionKind::iscsid_stop_conn).session = sess;
          action(t, ActionKind::iscsid_destroy_conn).session = sess;
          break;
        default:
          action(t, ActionKind::hba_remove);
          break;
      }
    } else if (kind == "stalls") {
      param("sched.stall", r_.pick(std::vector<D>{D::from_us(100), D::from_ms(10), D::from_ms(500), D::from_s(2)}));
      if (r_.one_in(3)) param("sched.stall_rate", r_.pick(std::vector<std::uint64_t>{100, 10000}));
    } else if (kind == "short_timeouts") {
      auto maybe = [&](const char* key, const std::vector<D>& choices) {
        if (r_.coin()) param(key, r_.pick(choices));
      };
      maybe("scsi.cmd_timeout", {D::from_s(1), D::from_s(2), D::from_s(5)});
      maybe("session.abort_timeout", {D::from_s(1), D::from_s(2), D::from_s(6)});
      maybe("session.lu_reset_timeout", {D::from_s(1), D::from_s(3), D::from_s(10)});
      maybe("session.tgt_reset_timeout", {D::from_s(1), D::from_s(3), D::from_s(10)});
      maybe("session.recovery_timeout", {D::from_s(2), D::from_s(10), D::from_s(30)});
      maybe("session.logout_timeout", {D::from_s(1), D::from_s(5)});
    } else if (kind == "slow_target") {
      const D lat = r_.log_between(D::from_us(10), D::from_ms(5));
      param("target.latency", lat);
      if (r_.coin()) param("target.latency_p99", D{lat.ns + r_.log_between(D::from_us(10), D::from_ms(50)).ns});
      if (r_.coin()) param("target.tmf_latency", r_.log_between(D::from_us(20), D::from_ms(100)));
      if (r_.coin()) param("target.queue_depth", r_.pick(std::vector<std::uint64_t>{1, 4, 64}));
      if (r_.coin()) param("fw.cleanup_latency", r_.log_between(D::from_us(20), D::from_ms(10)));
      if (r_.coin()) param("fw.drain_latency", r_.log_between(D::from_us(100), D::from_ms(100)));
      if (r_.coin()) param("fw.destroy_conn_latency", r_.log_between(D::from_us(100), D::from_ms(100)));
    } else if (kind == "pings") {
      param("session.noop_interval", r_.pick(std::vector<D>{D::from_ms(500), D::from_s(1), D::from_s(5)}));
      param("session.noop_timeout", r_.pick(std::vector<D>{D::from_ms(500), D::from_s(1), D::from_s(5)}));
    }
  }

  ActionArgs& action(Duration at, ActionKind kind) {
    Action a;
    a.at = at;
    a.kind = kind;
    s_.actions.push_back(a);
    return s_.actions.back().args;
  }

  Rng r_;
  Scenario s_;
  std::vector<std::string> kinds_;
  Duration horizon_{};
};

}  // namespace

const std::vector<std::string_view>& swarm_fault_kinds() { return kKinds; }

SwarmDraw draw_swarm_scenario(std::uint64_t seed) { return Drawer(seed).draw(); }

}  // namespace qedisim
