// `qedisim shrink`: from a scenario whose run reports an invariant beyond
// expect.fixed, greedily remove workload streams, actions, failpoints,
// sessions and params, reduce ops and depth, and halve delays and times,
// keeping each change while the same invariant id still fires. Every
// candidate runs in its own forked child.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace qedisim {

struct ShrinkOptions {
  std::string file;
  std::string out;                    // default: FILE with .shrunk before .yaml
  std::vector<std::string> ids;       // default: the first unexpected violation's id
  std::vector<std::string> revert;    // baked into the output's fixes
  std::optional<std::uint64_t> seed;  // baked into the output's seed
  std::uint64_t max_runs = 500;       // candidate runs at most
  bool quiet = false;
  std::vector<std::string> compare;  // scenarios (the hand-written ones) the result must be no larger than
};

// 0 a scenario that still fires was written (and is no larger than any of
// `compare`: no more entries and no more ops), 1 it was written but is
// larger than one of `compare`, 2 the input does not fire (or
// bad input), 3 internal error. Throws ScenarioError, OutputError, OptionError.
int run_shrink(const ShrinkOptions& options);

// What a candidate must still do to be kept: report every one of `ids`, or,
// with internal_error, still make the simulation child fail.
struct ShrinkTarget {
  std::vector<InvariantId> ids;
  bool internal_error = false;
};

struct ShrinkOutcome {
  bool fired = false;  // the input itself fires the target (else `best` is the input)
  Scenario best;       // as loaded back from its text: what scenario_to_yaml(best) writes
  std::uint64_t runs = 0;
  bool budget_hit = false;
};

// The shrinking `shrink` does, for a caller that has the scenario in memory
// (swarm). `origin` names it in load messages. Prints each kept step unless
// quiet. Throws InternalError only when interrupted.
ShrinkOutcome shrink_scenario(const Scenario& input, const ShrinkTarget& target, std::uint64_t max_runs,
                              const std::string& origin, bool quiet);
std::string shrink_target_text(const ShrinkTarget& t);

}  // namespace qedisim
