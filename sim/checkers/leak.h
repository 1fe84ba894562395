// leak (docs/invariants.md), judged the way kmemleak judges it: a live slab
// allocation that no root reaches through the pointer fields of reachable
// objects (host_driver_model/kernel/kmemleak.h does the marking). Fires
// once per object (incarnation) with its allocation site and the last
// context that accessed it. CheckerSet decides when to scan: at quiescent
// points (no context inside a call, so no pointer lives only on a stack),
// at most once per checker.leak_scan_interval, and at the end of a run that
// ends quiescent.
#pragma once

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "host_driver_model/kernel/slab.h"
#include "sim/checkers/checker.h"

namespace qedisim::checkers {

class LeakChecker : public Checker {
 public:
  explicit LeakChecker(Findings& out) : Checker(InvariantId::leak, out) {}
  // One scan's unreferenced allocations (Kmemleak::scan).
  void judge(std::int64_t now_ns, const std::vector<const kern::ObjectHeader*>& unreferenced);

 private:
  std::set<std::pair<const kern::ObjectHeader*, std::uint32_t>> reported_;
};

}  // namespace qedisim::checkers
