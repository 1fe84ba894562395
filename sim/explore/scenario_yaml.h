// Scenario -> YAML text that load_scenario_text() reads back to the same
// Scenario (explore's reproducers, shrink's candidates). Comments and the
// file's own layout are not kept; every value is written exactly.
#pragma once

#include <string>

#include "sim/scenario/scenario.h"

namespace qedisim {

// Writes `qedisim: 2` when a v2 construct is used, the scenario's own version
// otherwise. `params:` lists the keys in `written_params`, in that order.
std::string scenario_to_yaml(const Scenario& s);

// "all", "none", {except: [...]} or {only: [...]}, whichever is shorter.
std::string fixes_to_yaml(const FixSet& fixes);

}  // namespace qedisim
