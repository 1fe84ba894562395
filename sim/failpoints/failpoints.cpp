#include "sim/failpoints/failpoints.h"

namespace qedisim {

Failpoints::Failpoints(std::vector<Failpoint> failpoints, std::vector<Action> point_actions)
    : point_actions_(std::move(point_actions)) {
  entries_.reserve(failpoints.size());
  for (auto& fp : failpoints) entries_.push_back(Entry{std::move(fp), 0});
}

namespace {
template <typename T>
bool key_matches(const std::optional<T>& wanted, const std::optional<T>& actual) {
  return !wanted || (actual && *wanted == *actual);
}
}  // namespace

PointOutcome Failpoints::hit(const PointEvent& ev) {
  auto it = occurrences_.find(ev.point);
  if (it == occurrences_.end()) it = occurrences_.emplace(std::string(ev.point), 0).first;
  const std::uint64_t occurrence = ++it->second;

  // `on:` actions fire before the point's own action (SCENARIOS.md), in list order.
  if (run_action_) {
    for (const auto& a : point_actions_)
      if (a.on && a.on->point == ev.point && a.on->nth == occurrence) run_action_(a);
  }

  PointOutcome out;
  for (auto& e : entries_) {
    const Match& m = e.fp.match;
    if (e.fp.point != ev.point) continue;
    if (!key_matches(m.session, ev.session) || !key_matches(m.lun, ev.lun) || !key_matches(m.function, ev.function) ||
        !key_matches(m.type, ev.type) || !key_matches(m.gfp, ev.gfp))
      continue;
    if (m.site && *m.site != ev.site) continue;
    if (!m.nth.matches(++e.matched)) continue;
    switch (e.fp.action.kind) {
      case FailAction::Kind::drop: out.drop = true; break;
      case FailAction::Kind::fail: out.fail = true; break;
      case FailAction::Kind::delay: out.delay.ns += e.fp.action.delay.ns; break;
      case FailAction::Kind::respond:
        if (!out.respond) out.respond = e.fp.action.respond;
        break;
    }
  }
  if (fault_listener_ && (out.drop || out.fail || out.delay.ns > 0 || out.respond)) fault_listener_(ev, out);
  return out;
}

}  // namespace qedisim
