// Failpoints and point-triggered actions (docs/scenarios.md "Failpoints"): the
// FailpointHook the models ask (common/failpoint_hook.h). Each time a
// context reaches a named point this class counts the occurrence, fires
// `on:` actions first, then returns what the matching failpoint asks for.
// The models see only the hook, never the scenario.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/failpoint_hook.h"
#include "sim/scenario/scenario.h"

namespace qedisim {

class Failpoints final : public FailpointHook {
 public:
  using ActionFn = std::function<void(const Action&)>;

  // `seed` is the run's seed: schema v2's random delays and drops draw from
  // a PRNG seeded by it, so the same seed gives the same choices.
  Failpoints(std::vector<Failpoint> failpoints, std::vector<Action> point_actions, std::uint64_t seed = 1);
  Failpoints(const Failpoints&) = delete;  // recent_ points into occurrences_
  Failpoints& operator=(const Failpoints&) = delete;

  // Restarts the generator from `seed`, as construction with it would have
  // (a campaign's child running a model its parent elaborated).
  void reseed(std::uint64_t seed);

  // Called by the testbench once at elaboration: runs `on:` actions.
  void set_action_runner(ActionFn fn) { run_action_ = std::move(fn); }
  // Told of every hit whose outcome changes behaviour (checkers' outside causes).
  using FaultFn = std::function<void(const PointEvent&, const PointOutcome&)>;
  void set_fault_listener(FaultFn fn) { fault_listener_ = std::move(fn); }

  // A context reached `ev.point`. Fires due `on:` actions, then returns the
  // first matching failpoint's outcome (several matching entries combine:
  // delays add, any drop/fail wins, the first respond wins). A v2 range or
  // probability draws once per matching occurrence, in entry order.
  PointOutcome hit(const PointEvent& ev) override;

  // Points reached at least once, for coverage figures.
  const std::map<std::string, std::uint64_t, std::less<>>& occurrences() const { return occurrences_; }

 private:
  struct Entry {
    Failpoint fp;
    std::uint64_t matched = 0;  // occurrences that matched the non-nth keys
  };
  std::vector<Entry> entries_;
  std::vector<Action> point_actions_;
  std::map<std::string, std::uint64_t, std::less<>> occurrences_;
  // The count last found for a point name's address (its text checked):
  // points are reached several times per command, the map is ordered by text.
  struct Recent {
    const char* data = nullptr;
    std::pair<const std::string, std::uint64_t>* entry = nullptr;  // in occurrences_ (map nodes never move)
  };
  std::uint64_t& occurrence_count(std::string_view point);
  Recent recent_[64];
  std::mt19937_64 rng_;
  ActionFn run_action_;
  FaultFn fault_listener_;
};

}  // namespace qedisim
