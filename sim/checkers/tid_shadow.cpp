#include "sim/checkers/tid_shadow.h"

namespace qedisim::checkers {

std::string TidEntry::moved_text() const {
  return moved_how == MovedHow::overwritten ? "overwritten by a second tid, " + tid_name(moved_to) + ","
                                            : std::string("task_id reset");
}

void TidShadow::allocated(std::uint16_t tid, const Site& at) {
  TidEntry& e = entry(tid);
  // A fresh allocation: set, allocated here, not yet bound or reported. The
  // previous owner (has_owner, owner, owner_freed, owner_moved, owner_gone_at,
  // moved_how) and the clear history stay known until a bind replaces them:
  // tid_double_owner judges the bind, not the allocation. Reset in place
  // rather than through a copy of the whole entry (once per command).
  e.set = true;
  e.allocated = at;
  e.bound = Site{};
  e.leak_reported = false;
}

void TidShadow::bound(std::uint16_t tid, const ObjRef& owner, const Site& at) {
  TidEntry& e = entry(tid);
  if (!e.set) {
    e.set = true;
    e.allocated = at;
    e.leak_reported = false;
  }
  // The owner's qedi_cmd held another tid: that one has lost its owner.
  const std::uint16_t* held = held_by_.find(owner.key);
  if (held && *held != tid) {
    TidEntry& old = entry(*held);
    if (old.has_owner && old.owner.key == owner.key && !old.owner_moved) {
      old.owner_moved = true;
      old.owner_gone_at = at;
      old.moved_how = TidEntry::MovedHow::overwritten;
      old.moved_to = tid;
    }
  }
  e.has_owner = true;
  e.owner = owner;
  e.owner_freed = false;
  e.owner_moved = false;
  e.bound = at;
  held_by_[owner.key] = tid;
  last_tid_[owner.key] = tid;
}

void TidShadow::cleared(std::uint16_t tid, const Site& at) {
  TidEntry& e = entry(tid);
  e.set = false;
  e.ever_cleared = true;
  e.last_clear = at;
}

void TidShadow::unbound(const ObjRef& owner, std::uint16_t tid, const Site& at) {
  const std::uint16_t* held = held_by_.find(owner.key);
  if (held && *held == tid) held_by_.erase(owner.key);
  TidEntry* e = find(tid);
  if (e && e->has_owner && e->owner.key == owner.key && !e->owner_moved && !e->owner_freed) {
    e->owner_moved = true;
    e->owner_gone_at = at;
    e->moved_how = TidEntry::MovedHow::task_id_reset;
  }
}

void TidShadow::task_freed(const ObjRef& owner, const Site& at) {
  const std::uint16_t* held = held_by_.find(owner.key);
  if (!held) return;
  TidEntry* e = find(*held);
  if (e && e->has_owner && e->owner.key == owner.key && !e->owner_moved) {
    e->owner_freed = true;
    e->owner_gone_at = at;
  }
  held_by_.erase(owner.key);
}

TidEntry& TidShadow::add(std::uint16_t tid) {
  TidEntry& e = tids_[tid];
  if (tid >= by_tid_.size()) by_tid_.resize(tid + 1u, nullptr);
  by_tid_[tid] = &e;
  return e;
}

const TidEntry* TidShadow::find(std::uint16_t tid) const { return tid < by_tid_.size() ? by_tid_[tid] : nullptr; }

TidEntry* TidShadow::find(std::uint16_t tid) { return tid < by_tid_.size() ? by_tid_[tid] : nullptr; }

bool TidShadow::tid_of(const ObjRef& owner, std::uint16_t& tid) const {
  const std::uint16_t* last = last_tid_.find(owner.key);
  if (!last) return false;
  tid = *last;
  return true;
}

std::uint32_t TidShadow::in_use() const {
  std::uint32_t n = 0;
  for (const auto& [tid, e] : tids_)
    if (tid != 0 && e.set) ++n;
  return n;
}

std::uint32_t TidShadow::live_owners() const {
  std::uint32_t n = 0;
  for (const auto& [tid, e] : tids_)
    if (tid != 0 && e.set && e.owner_live()) ++n;
  return n;
}

}  // namespace qedisim::checkers
