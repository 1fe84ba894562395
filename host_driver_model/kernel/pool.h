// A fixed pool of tracked slots with FIFO reuse: libiscsi's task pool
// (session->cmds[] + the kfifo of free tasks, drivers/scsi/libiscsi.c
// iscsi_pool_init). A slot gets a new incarnation each time it leaves the
// pool, so a pointer kept across a free and a reuse is caught (uaf, docs/invariants.md).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "host_driver_model/kernel/slab.h"

namespace qedisim::kern {

template <typename T>
class Pool {
 public:
  explicit Pool(std::size_t size) : slots_(size) {
    for (std::size_t i = 0; i < size; ++i) free_.push_back(static_cast<std::uint32_t>(i));
  }

  std::size_t size() const { return slots_.size(); }
  std::size_t free_count() const { return free_.size(); }

  // kfifo_out: the oldest free slot, or null when the pool is empty.
  KPtr<T> alloc(const ObjectName& name) {
    if (free_.empty()) return KPtr<T>();
    const std::uint32_t i = free_.front();
    free_.pop_front();
    Tracked<T>* t = &slot(i);
    reinit(t->obj, 0);
    ++t->hdr.incarnation;
    t->hdr.type = T::kTypeName;
    t->hdr.name = name;  // reuses the slot's buffer
    t->hdr.live = true;
    t->hdr.alloc_ns = Kernel::now_ns();
    t->hdr.alloc_fn = Kernel::get().current().function();
    t->hdr.alloc_ctx = Kernel::get().current().lasting_name();
    t->hdr.last_ctx = Kernel::current_context();
    return KPtr<T>(t);
  }

  // kfifo_in: back to the pool. A second return of the same incarnation is a double_free.
  void free(const KPtr<T>& p) {
    if (p.is_null()) return;
    const std::uint32_t i = index_of(p);
    Tracked<T>* t = slots_[i].get();
    if (!t->hdr.live || t->hdr.incarnation != p.incarnation()) {
      Kernel::get().observer().double_free(t->hdr, p.incarnation());
      return;
    }
    t->hdr.live = false;
    t->hdr.free_ns = Kernel::now_ns();
    t->hdr.free_fn = Kernel::get().current().function();
    t->hdr.free_ctx = Kernel::get().current().lasting_name();
    free_.push_back(i);
  }

  // session->cmds[i]: the slot as it is now (its current incarnation, or
  // the free slot itself, which may be read until it is allocated again).
  KPtr<T> at(std::uint32_t i) const { return i < slots_.size() ? KPtr<T>::pool_slot(&slot(i)) : KPtr<T>(); }
  bool live(std::uint32_t i) const { return i < slots_.size() && slots_[i] && slots_[i]->hdr.live; }

  std::uint32_t index_of(const KPtr<T>& p) const { return p.header() ? p.header()->index : UINT32_MAX; }

  // kmemleak: the pool's array (session->cmds[]) points at every slot, free
  // or not. A slot not made yet is a fresh T, whose fields reach nothing.
  void scan_slots(RefVisitor& v) const {
    for (const auto& s : slots_)
      if (s) v.reach_slot(s->hdr);
  }

 private:
  // A slot leaving the pool starts from a fresh object, except what T says
  // the kernel's memory keeps (T::reinit: the pool item is kzalloc'd once).
  template <typename U>
  static auto reinit(U& obj, int) -> decltype(obj.reinit(), void()) {
    obj.reinit();
  }
  static void reinit(T& obj, long) {
    obj.~T();
    new (&obj) T();
  }

  // Slot i, made at its first use. iscsi_pool_init kzallocs every item up
  // front; a slot nobody has taken or read is still that zeroed item, so it
  // is built only when first taken or read (at): a bug scenario's session
  // uses a few of its 128 tasks, and an explore child would otherwise build
  // and touch all of them (17 pages) at login.
  Tracked<T>& slot(std::uint32_t i) const {
    std::unique_ptr<Tracked<T>>& s = slots_[i];
    if (!s) {
      s = std::make_unique<Tracked<T>>();
      s->hdr.index = i;
      init_scan_header(*s, false);
    }
    return *s;
  }

  mutable std::vector<std::unique_ptr<Tracked<T>>> slots_;
  std::deque<std::uint32_t> free_;
};

}  // namespace qedisim::kern
