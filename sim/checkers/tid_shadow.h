// The checkers' shadow of qedi's tid bitmap (tid_leak, tid_double_owner, wrong_task_cleanup, fw_orphan in
// docs/invariants.md): for each tid,
// whether its bit is set, which task (incarnation) the driver bound it to,
// whether that owner is gone (freed, or its qedi_cmd now holds another tid
// or none), and where it was allocated and last cleared. Fed by the tid
// events before the tid checkers look at it. Pure C++.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/flat_map.h"
#include "sim/checkers/object_ref.h"
#include "sim/checkers/site.h"

namespace qedisim::checkers {

struct TidEntry {
  bool set = false;
  bool has_owner = false;
  ObjRef owner;
  bool owner_freed = false;
  bool owner_moved = false;  // its qedi_cmd holds another tid, or none
  Site owner_gone_at;
  // How: its qedi_cmd's task_id reset, or overwritten by a second tid, `moved_to`.
  enum class MovedHow : std::uint8_t { task_id_reset, overwritten } moved_how = MovedHow::task_id_reset;
  std::uint16_t moved_to = 0;
  Site allocated;  // qedi_get_task_idx (or the bind when not reported)
  Site bound;
  bool ever_cleared = false;
  Site last_clear;
  bool leak_reported = false;  // for this allocation

  bool bound_since_allocated() const { return !bound.ctx.empty(); }
  bool owner_live() const { return has_owner && !owner_freed && !owner_moved; }
  std::string moved_text() const;  // "overwritten by a second tid, tid 0x022,", "task_id reset"
};

class TidShadow {
 public:
  TidShadow() = default;
  TidShadow(const TidShadow&) = delete;  // by_tid_ points into tids_
  TidShadow& operator=(const TidShadow&) = delete;
  void allocated(std::uint16_t tid, const Site& at);
  void bound(std::uint16_t tid, const ObjRef& owner, const Site& at);
  void cleared(std::uint16_t tid, const Site& at);
  void unbound(const ObjRef& owner, std::uint16_t tid, const Site& at);
  void task_freed(const ObjRef& owner, const Site& at);

  const TidEntry* find(std::uint16_t tid) const;
  TidEntry* find(std::uint16_t tid);
  // The tid the task's qedi_cmd holds now, or last held (kept until the task
  // is freed and forgotten).
  bool tid_of(const ObjRef& owner, std::uint16_t& tid) const;
  void forget(const ObjRef& owner) { last_tid_.erase(owner.key); }

  // In tid order. Modified in place, never erased: find() keeps pointers
  // to the map's nodes.
  const std::map<std::uint16_t, TidEntry>& entries() const { return tids_; }
  std::map<std::uint16_t, TidEntry>& entries() { return tids_; }
  std::uint32_t in_use() const;  // set bits but tid 0
  std::uint32_t live_owners() const;

 private:
  // The entry of `tid`, made on first sight.
  TidEntry& entry(std::uint16_t tid) {
    if (tid < by_tid_.size() && by_tid_[tid]) return *by_tid_[tid];
    return add(tid);
  }
  TidEntry& add(std::uint16_t tid);

  std::map<std::uint16_t, TidEntry> tids_;
  std::vector<TidEntry*> by_tid_;  // tids_'s nodes by tid (null: not seen), a few lookups per command
  // Looked up by key only (hashed: one lookup per command).
  FlatMap<ObjKey, std::uint16_t, ObjKeyHash> held_by_;   // owner key -> tid its qedi_cmd holds
  FlatMap<ObjKey, std::uint16_t, ObjKeyHash> last_tid_;  // owner key -> last tid it held
};

}  // namespace qedisim::checkers
