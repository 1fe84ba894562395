// Every failpoint the build has (docs/scenarios.md vocabulary v1 plus the model's
// own), with where it sits, which match keys and which actions it accepts.
// The loader validates against it; `qedisim points` prints it.
#pragma once

#include <string_view>
#include <vector>

namespace qedisim {

enum MatchKey : unsigned {
  kMatchSession = 1u << 0,
  kMatchLun = 1u << 1,
  kMatchFunction = 1u << 2,
  kMatchType = 1u << 3,
  kMatchGfp = 1u << 4,
  kMatchSite = 1u << 5,
  kMatchNth = 1u << 6,
  kMatchCq = 1u << 7,
};

enum ActionBit : unsigned {
  kActDrop = 1u << 0,
  kActDelay = 1u << 1,
  kActRespond = 1u << 2,
  kActFail = 1u << 3,
};

struct PointInfo {
  std::string_view name;
  unsigned match_keys;
  unsigned actions;
  std::string_view where;  // the kernel function / model step it sits in
};

const std::vector<PointInfo>& point_catalog();
const PointInfo* find_point(std::string_view name);

}  // namespace qedisim
