#include "sim/failpoints/failpoints.h"

#include "sim/explore/seeds.h"

namespace qedisim {

namespace {
// The kernel's sched.jitter generator is seeded with the run seed itself;
// this one gets a splitmix64 step of it so the two streams differ.
std::uint64_t failpoint_stream_seed(std::uint64_t seed) { return splitmix64_mix(seed + 0x9e3779b97f4a7c15ull); }
}  // namespace

void Failpoints::reseed(std::uint64_t seed) { rng_.seed(failpoint_stream_seed(seed)); }

Failpoints::Failpoints(std::vector<Failpoint> failpoints, std::vector<Action> point_actions, std::uint64_t seed)
    : point_actions_(std::move(point_actions)), rng_(failpoint_stream_seed(seed)) {
  entries_.reserve(failpoints.size());
  for (auto& fp : failpoints) entries_.push_back(Entry{std::move(fp), 0});
}

namespace {
template <typename T>
bool key_matches(const std::optional<T>& wanted, const std::optional<T>& actual) {
  return !wanted || (actual && *wanted == *actual);
}
}  // namespace

std::uint64_t& Failpoints::occurrence_count(std::string_view point) {
  Recent& r = recent_[(reinterpret_cast<std::uintptr_t>(point.data()) >> 3) % std::size(recent_)];
  if (r.data == point.data() && r.entry && r.entry->first == point) return r.entry->second;
  auto it = occurrences_.find(point);
  if (it == occurrences_.end()) it = occurrences_.emplace(std::string(point), 0).first;
  r = Recent{point.data(), &*it};
  return it->second;
}

PointOutcome Failpoints::hit(const PointEvent& ev) {
  const std::uint64_t occurrence = ++occurrence_count(ev.point);

  // `on:` actions fire before the point's own action (docs/scenarios.md), in list order.
  if (run_action_) {
    for (const auto& a : point_actions_)
      if (a.on && a.on->point == ev.point && a.on->nth == occurrence) run_action_(a);
  }

  PointOutcome out;
  for (auto& e : entries_) {
    const Match& m = e.fp.match;
    if (e.fp.point != ev.point) continue;
    if (!key_matches(m.session, ev.session) || !key_matches(m.lun, ev.lun) || !key_matches(m.function, ev.function) ||
        !key_matches(m.type, ev.type) || !key_matches(m.gfp, ev.gfp) || !key_matches(m.cq, ev.cq))
      continue;
    if (m.site && *m.site != ev.site) continue;
    if (!m.nth.matches(++e.matched)) continue;
    switch (e.fp.action.kind) {
      case FailAction::Kind::drop: {
        const double p = e.fp.action.drop_probability;
        // 53 random bits -> [0, 1); p == 1 draws nothing, so v1 files use no randomness.
        if (p >= 1.0 || static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p) out.drop = true;
        break;
      }
      case FailAction::Kind::fail:
        out.fail = true;
        break;
      case FailAction::Kind::delay: {
        std::int64_t d = e.fp.action.delay.ns;
        const auto& max = e.fp.action.delay_max;
        if (max && max->ns > d) d += static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(max->ns - d + 1));
        out.delay.ns += d;
        break;
      }
      case FailAction::Kind::respond:
        if (!out.respond) out.respond = e.fp.action.respond;
        break;
    }
  }
  if (fault_listener_ && (out.drop || out.fail || out.delay.ns > 0 || out.respond)) fault_listener_(ev, out);
  return out;
}

}  // namespace qedisim
