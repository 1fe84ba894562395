// double_free (docs/invariants.md): a free of an object (incarnation) already free,
// a task refcount put below zero, a second free of a qedi_work_map (a slab
// object like any other), or a tid cleared while its bit is already clear
// (qedi_clear_task_idx: "FW task context, already cleared").
#pragma once

#include <cstdint>

#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"
#include "sim/checkers/tid_shadow.h"

namespace qedisim::checkers {

class DoubleFreeChecker : public Checker {
 public:
  explicit DoubleFreeChecker(Findings& out) : Checker(InvariantId::double_free, out) {}
  void double_free(const Site& at, const kern::ObjectHeader& h, std::uint32_t taken_incarnation);
  void task_put(const Site& at, const ObjRef& task, int refcount_after);
  // Before the shadow records this clear: `entry` is the tid's state so far.
  void tid_cleared(const Site& at, std::uint16_t tid, bool ok, const TidEntry* entry);
};

}  // namespace qedisim::checkers
