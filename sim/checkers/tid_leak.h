// tid_leak (docs/invariants.md): at each quiescent point and at the end of the run,
// every set tid but reserved tid 0 whose owner is gone (task freed, its
// qedi_cmd now holds another tid or none, or never bound) is reported once
// per allocation. Nothing is checked in between: a tid may lawfully outlive
// its task briefly. At the end of a run that is not quiescent (stop_at cut a
// call short) a tid not bound since its allocation is not judged.
#pragma once

#include <cstdint>

#include "sim/checkers/checker.h"
#include "sim/checkers/tid_shadow.h"

namespace qedisim::checkers {

class TidLeakChecker : public Checker {
 public:
  explicit TidLeakChecker(Findings& out) : Checker(InvariantId::tid_leak, out) {}
  void check(std::int64_t now_ns, TidShadow& tids, bool quiescent);
};

}  // namespace qedisim::checkers
