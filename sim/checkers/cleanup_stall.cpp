#include "sim/checkers/cleanup_stall.h"

#include <fmt/format.h>

#include <algorithm>

namespace qedisim::checkers {

const char* wait_word(drv::CleanupWaitKind k) {
  switch (k) {
    case drv::CleanupWaitKind::abort_victim:
      return "victim cleanup wait";
    case drv::CleanupWaitKind::bulk_wait1:
      return "wait";
    case drv::CleanupWaitKind::bulk_wait2:
      return "wait after the drain";
  }
  return "wait";
}

// Two contexts may wait on one conn's counters at once (ep_disconnect's
// qedi_clearsq and a reset-response work): each wait is its own record.
std::string CleanupStallChecker::wait_key(const ObjRef& conn, drv::CleanupWaitKind kind, const std::string& ctx) {
  return fmt::format("{}|{}|{}", conn.key.text(), static_cast<int>(kind), ctx);
}

void CleanupStallChecker::cleanup_posted(const Site& at, std::uint16_t tid) { posted_ns_[tid] = at.ns; }

void CleanupStallChecker::cqe_handled(const Site& at, std::uint16_t tid) { handled_ns_[tid] = at.ns; }

void CleanupStallChecker::wait_begin(const Site& at, const ObjRef& conn, long session, drv::CleanupWaitKind kind,
                                     const std::vector<std::uint16_t>& tids, std::int64_t deadline_ns) {
  const std::string key = wait_key(conn, kind, at.ctx);
  std::int64_t round_ns = at.ns;
  if (kind == drv::CleanupWaitKind::bulk_wait1) {
    round_ns_[key] = at.ns;
  } else if (kind == drv::CleanupWaitKind::bulk_wait2) {
    // The wait after the drain belongs to the round of the first wait.
    const auto r = round_ns_.find(wait_key(conn, drv::CleanupWaitKind::bulk_wait1, at.ctx));
    if (r != round_ns_.end()) round_ns = r->second;
  }
  waits_[key] = Wait{session, at, tids, deadline_ns, round_ns};
}

bool CleanupStallChecker::wait_end(const Site& at, const ObjRef& conn, drv::CleanupWaitKind kind, bool timed_out,
                                   StalledWait& stalled) {
  const auto it = waits_.find(wait_key(conn, kind, at.ctx));
  if (it == waits_.end()) return false;
  const Wait w = it->second;
  waits_.erase(it);
  if (!timed_out || w.tids.empty()) return false;
  std::size_t in_time = 0;
  std::int64_t last = 0;
  for (std::uint16_t tid : w.tids) {
    const auto h = handled_ns_.find(tid);
    if (h == handled_ns_.end()) continue;
    const auto p = posted_ns_.find(tid);
    if (p != posted_ns_.end() && h->second < p->second) continue;  // a CQE of an earlier cleanup
    // The tid was cleaned up again after this round began: freed, given to
    // another command (another connection's, perhaps) and cleaned up for it;
    // that CQE is not the one this wait counts.
    if (p != posted_ns_.end() && p->second > w.round_ns) continue;
    if (h->second > w.deadline_ns - slack_ns_) continue;  // came late: an outside delay
    ++in_time;
    last = std::max(last, h->second);
  }
  if (in_time != w.tids.size()) return false;
  std::string msg = fmt::format("{} timed out after {}; {} of {} cleanup CQEs handled by {}", wait_word(kind),
                                secs(w.deadline_ns - w.begin.ns), in_time, w.tids.size(), secs(last));
  const auto c = counters_.find(conn.key);
  if (c != counters_.end() && c->second.known && kind != drv::CleanupWaitKind::abort_victim)
    msg += fmt::format(", driver counted {}", c->second.cmpl);
  report(at, retype(conn, "qedi_conn"), w.begin.fn, std::move(msg));
  stalled = StalledWait{w.session, kind, w.begin, last, w.deadline_ns};
  return true;
}

void CleanupStallChecker::counters(const Site& at, const ObjRef& conn, std::uint32_t req, std::uint32_t cmpl) {
  Counters& c = counters_[conn.key];
  if (req < c.req || cmpl < c.cmpl) c.over_reported = false;  // reset by a new bulk cleanup
  c.known = true;
  c.req = req;
  c.cmpl = cmpl;
  if (cmpl <= req || c.over_reported) return;
  c.over_reported = true;
  report(at, retype(conn, "qedi_conn"), at.fn,
         fmt::format("cmd_cleanup_cmpl {} exceeds cmd_cleanup_req {}", cmpl, req));
}

}  // namespace qedisim::checkers
