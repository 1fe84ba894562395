#include "sim/checkers/unnecessary_escalation.h"

#include <fmt/format.h>

namespace qedisim::checkers {

namespace {
const char* level_word(EhLevel l) {
  switch (l) {
    case EhLevel::device:
      return "device reset";
    case EhLevel::target:
      return "target reset";
    case EhLevel::session:
      return "session reset";
    case EhLevel::host:
      return "host reset";
    default:
      return "recovery";
  }
}
const char* gfp_word(Gfp g) {
  switch (g) {
    case Gfp::atomic:
      return "GFP_ATOMIC";
    case Gfp::noio:
      return "GFP_NOIO";
    case Gfp::kernel:
      return "GFP_KERNEL";
  }
  return "GFP";
}
// An injected allocation failure (mem.alloc) is not an outside cause by
// itself: alloc_failed judges it by its flag and context (driver cause A, or
// real out of memory when it was allowed to sleep).
bool outside_point(const std::string& p) {
  return p.rfind("target.", 0) == 0 || p.rfind("fw.", 0) == 0 || p.rfind("link.", 0) == 0 || p.rfind("hba.", 0) == 0;
}
constexpr std::size_t kRecentFaults = 256;
}  // namespace

const char* to_string(FaultKind k) {
  switch (k) {
    case FaultKind::drop:
      return "drop";
    case FaultKind::delay:
      return "delay";
    case FaultKind::respond:
      return "respond";
    case FaultKind::fail:
      return "fail";
  }
  return "fault";
}

bool UnnecessaryEscalationChecker::affects(const InjectedFault& f, const Attempt& a) const {
  if (!outside_point(f.point)) return false;
  if (f.session && a.session >= 0 && static_cast<long>(*f.session) != a.session) return false;
  // A delay that started before the attempt still counts while it lasts.
  return f.at_ns + f.delay_ns >= a.begin.ns;
}

void UnnecessaryEscalationChecker::abort_begin(const Site& at, const ObjRef& cmd, long session) {
  Attempt a;
  a.cmd = cmd;
  a.session = session;
  a.begin = at;
  for (const InjectedFault& f : recent_faults_)
    if (a.outside.empty() && affects(f, a))
      a.outside = fmt::format("{} {} at {}", f.point, to_string(f.kind), secs(f.at_ns));
  attempts_[cmd.key] = std::move(a);
}

void UnnecessaryEscalationChecker::abort_end(const Site&, const ObjRef& cmd, bool success) {
  const auto it = attempts_.find(cmd.key);
  if (it == attempts_.end()) return;
  if (success) {
    attempts_.erase(it);
    return;
  }
  it->second.open = false;
  it->second.success = false;
}

void UnnecessaryEscalationChecker::escalation(const Site& at, const ObjRef& cmd, EhLevel level) {
  if (level == EhLevel::none || level == EhLevel::abort) return;
  const auto it = attempts_.find(cmd.key);
  if (it == attempts_.end()) return;
  const Attempt a = it->second;
  attempts_.erase(it);
  if (a.success || !a.outside.empty()) return;
  std::string cause;
  if (!a.alloc_cause.empty() && !a.abort_left)
    cause = "ABORT never sent: " + a.alloc_cause;
  else if (!a.wait_cause.empty())
    cause = a.wait_cause;
  if (cause.empty()) return;
  report(Site{at.ns, a.begin.ctx, "iscsi_eh_abort"}, a.cmd.desc, "iscsi_eh_abort",
         fmt::format("abort FAILED, {} next; {}", level_word(level), cause));
}

void UnnecessaryEscalationChecker::alloc_failed(const Site& at, Gfp gfp, std::string_view site, bool could_sleep,
                                                long session) {
  for (auto& [key, a] : attempts_) {
    // Another session's allocation is neither this abort's cause nor an outside one.
    if (!a.open || (session >= 0 && a.session >= 0 && a.session != session)) continue;
    if (gfp == Gfp::atomic && could_sleep) {
      if (a.alloc_cause.empty())
        a.alloc_cause = fmt::format("{} allocation failed in {} {}, which could sleep", gfp_word(gfp), site, where(at));
    } else if (a.outside.empty()) {
      a.outside = fmt::format("{} allocation failed in {} (out of memory)", gfp_word(gfp), site);
    }
  }
}

void UnnecessaryEscalationChecker::abort_sent(const Site&, long session) {
  for (auto& [key, a] : attempts_)
    if (a.open && (a.session == session || session < 0)) a.abort_left = true;
}

void UnnecessaryEscalationChecker::conn_failed(const Site& at, long session) {
  for (auto& [key, a] : attempts_) {
    if (!a.open || (session >= 0 && a.session >= 0 && a.session != session)) continue;
    // The attempt's own TMF timeout raises iscsi_conn_failure in its own context.
    if (at.ctx == a.begin.ctx) continue;
    if (a.outside.empty()) a.outside = fmt::format("conn failed {}", where(at));
  }
}

void UnnecessaryEscalationChecker::fault(const InjectedFault& f) {
  if (!outside_point(f.point)) return;
  recent_faults_.push_back(f);
  if (recent_faults_.size() > kRecentFaults) recent_faults_.pop_front();
  for (auto& [key, a] : attempts_)
    if (a.open && a.outside.empty() && affects(f, a))
      a.outside = fmt::format("{} {} at {}", f.point, to_string(f.kind), secs(f.at_ns));
}

void UnnecessaryEscalationChecker::wait_timed_out(const Site& at, const std::string& what,
                                                  std::int64_t condition_met_ns) {
  if (condition_met_ns < 0 || condition_met_ns > at.ns - slack_ns_) return;
  for (auto& [key, a] : attempts_) {
    if (!a.open || a.begin.ctx != at.ctx || !a.wait_cause.empty()) continue;
    a.wait_cause = fmt::format("{} in {} ended at its timeout ({}) although its condition held since {}", what, at.fn,
                               secs(at.ns), secs(condition_met_ns));
  }
}

void UnnecessaryEscalationChecker::cleanup_wait_stalled(const Site& at, const StalledWait& w) {
  for (auto& [key, a] : attempts_) {
    if (!a.open || (w.session >= 0 && a.session >= 0 && a.session != w.session) || !a.wait_cause.empty()) continue;
    a.wait_cause = fmt::format("{} in {} {} timed out at {} although every awaited cleanup CQE was handled by {}",
                               wait_word(w.kind), w.begin.fn, where(w.begin), secs(at.ns), secs(w.all_handled_ns));
  }
}

void UnnecessaryEscalationChecker::forget(const ObjRef& cmd) {
  const auto it = attempts_.find(cmd.key);
  if (it != attempts_.end() && !it->second.open) attempts_.erase(it);
}

}  // namespace qedisim::checkers
