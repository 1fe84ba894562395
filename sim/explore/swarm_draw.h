// `qedisim swarm`'s scenario generator: a whole schema-v2 scenario drawn
// from one seed (topology, workload, model parameters, and a random subset of
// the fault kinds, "swarm testing"). Every draw is valid by construction:
// scenario_to_yaml() of it loads unchanged (tests/unit/swarm_draw_test.cpp
// checks 10,000 draws).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario/scenario.h"

namespace qedisim {

// The fault kinds a draw switches on or off, each with probability 1/2.
const std::vector<std::string_view>& swarm_fault_kinds();

struct SwarmDraw {
  Scenario scenario;               // name "swarm", seed = the draw's seed, fixes all
  std::vector<std::string> kinds;  // the fault kinds switched on, in swarm_fault_kinds() order
};

// The same seed gives the same scenario. The ranges drawn from are listed in
// docs/swarm.md.
SwarmDraw draw_swarm_scenario(std::uint64_t seed);

}  // namespace qedisim
