#include "sim/checkers/hung_task.h"

#include <fmt/format.h>

#include <algorithm>

namespace qedisim::checkers {

HungTaskChecker::Wait* HungTaskChecker::find(Name ctx) const {
  const auto it = by_ctx_.find(ctx);
  return it == by_ctx_.end() ? nullptr : it->second;
}

void HungTaskChecker::wait_begin(const Site& at, std::string_view what, bool idle) {
  Wait* entry = find(at.ctx);
  if (!entry) entry = by_ctx_[at.ctx] = &waits_[at.ctx];
  Wait& w = *entry;                         // assigned in place: a context's waits reuse one entry and its buffers
  if (w.what != what) w.what.assign(what);  // a context mostly waits on one thing
  w.begin = at;
  w.idle = idle;
  w.fired = false;
  w.condition_met_ns = -1;
  w.open = true;
  if (!idle) next_due_ns_ = std::min(next_due_ns_, at.ns + limit_ns_);
}

void HungTaskChecker::wait_end(const Site& at, bool) {
  tick(at.ns);
  if (Wait* w = find(at.ctx)) w->open = false;
  deadlock_reported_ = false;
}

void HungTaskChecker::condition_met(const Site& at) {
  Wait* w = find(at.ctx);
  if (w && w->open && w->condition_met_ns < 0) w->condition_met_ns = at.ns;
}

const HungTaskChecker::Wait* HungTaskChecker::open_wait(Name ctx) const {
  const Wait* w = find(ctx);
  return w && w->open ? w : nullptr;
}

void HungTaskChecker::tick(std::int64_t now_ns) {
  if (now_ns < next_due_ns_) return;
  next_due_ns_ = INT64_MAX;
  for (auto& [ctx, w] : waits_) {
    if (!w.open || w.idle || w.fired) continue;
    if (now_ns - w.begin.ns < limit_ns_) {
      next_due_ns_ = std::min(next_due_ns_, w.begin.ns + limit_ns_);
      continue;
    }
    w.fired = true;
    std::string msg = fmt::format("blocked {} in {} (since {})", secs(limit_ns_), w.what, secs(w.begin.ns));
    if (w.condition_met_ns >= 0)
      msg += fmt::format("; its condition held since {}, no wakeup", secs(w.condition_met_ns));
    report(Site{w.begin.ns + limit_ns_, ctx, w.begin.fn}, "wait " + w.what, w.begin.fn, std::move(msg));
  }
}

void HungTaskChecker::no_pending_activity(std::int64_t now_ns,
                                          const std::map<std::string, std::vector<std::string>>& held) {
  tick(now_ns);
  if (deadlock_reported_) return;
  std::string chain;
  const Wait* first = nullptr;
  for (const auto& [ctx, w] : waits_) {
    if (!w.open || w.idle) continue;
    if (!first) first = &w;
    if (!chain.empty()) chain += "; ";
    chain += fmt::format("{} waits on {} in {}", ctx, w.what, w.begin.fn);
    for (const auto& [holder, locks] : held)
      for (const std::string& l : locks)
        if (l == w.what && holder != ctx) chain += fmt::format(" (held by {})", holder);
  }
  if (!first) return;
  deadlock_reported_ = true;
  report(Site{now_ns, "checker", ""}, "wait " + first->what, first->begin.fn,
         "global deadlock: every context blocked or idle, nothing timed pending; " + chain);
}

}  // namespace qedisim::checkers
