// fw_orphan (docs/invariants.md): when libiscsi ends a task (completion or any fail
// path) and when it frees it, the firmware must not still have that task's
// context live: its WQE not yet fetched from the SQ, queued, or on the wire
// waiting for the target. Completed, cleaned, flushed and dropped contexts
// are not live. Reported once per task incarnation.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "common/flat_map.h"
#include "hba_model/fw_task_table.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/tid_shadow.h"

namespace qedisim::checkers {

class FwOrphanChecker : public Checker {
 public:
  explicit FwOrphanChecker(Findings& out) : Checker(InvariantId::fw_orphan, out) {}
  void wqe_posted(const Site& at, std::uint16_t cid, std::uint16_t tid, const ObjRef& task, std::uint32_t pdu_itt,
                  bool cleanup);
  // Firmware fetched a WQE of cid (on_task_init / on_cleanup).
  void fw_fetched(std::uint16_t cid, std::uint16_t tid, bool cleanup);
  void sq_discarded(std::uint16_t cid);
  // task_ended / task_freed. `table` may be null (no firmware attached).
  void task_end(const Site& at, const ObjRef& task, std::string_view how, const TidShadow& tids,
                const hba::FwTaskTable* table);
  void forget(const ObjRef& task);

 private:
  struct Post {
    std::uint16_t cid = 0;
    std::uint16_t tid = 0;
    ObjKey task_key;
    std::uint32_t pdu_itt = 0;
    bool cleanup = false;
    Site at;
  };
  std::map<std::uint16_t, std::deque<Post>> unfetched_;  // by cid, SQ order
  FlatMap<ObjKey, Post, ObjKeyHash> last_post_;          // by task key; looked up only
  std::set<ObjKey> reported_;
};

}  // namespace qedisim::checkers
