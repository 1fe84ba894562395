// tid_double_owner (docs/invariants.md). Driver side: a tid is bound to a task
// while the shadow owner of that tid is still live (its task incarnation is
// not freed and its qedi_cmd still holds the tid), whether or not the bit
// was cleared in between. Firmware side: a WQE loads a task context that the
// firmware still holds for another (cid, itt).
#pragma once

#include <cstdint>

#include "hba_model/fw_task_table.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/tid_shadow.h"

namespace qedisim::checkers {

class TidDoubleOwnerChecker : public Checker {
 public:
  explicit TidDoubleOwnerChecker(Findings& out) : Checker(InvariantId::tid_double_owner, out) {}
  // Before the shadow records the bind.
  void tid_bound(const Site& at, std::uint16_t tid, const ObjRef& owner, const TidEntry* entry);
  void fw_task_init(const Site& at, std::uint16_t tid, const hba::FwTask& previous, const hba::FwTask& now,
                    bool overwrote_held);
};

}  // namespace qedisim::checkers
