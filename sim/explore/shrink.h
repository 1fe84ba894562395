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

}  // namespace qedisim
