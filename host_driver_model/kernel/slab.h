// Tracked storage (KASAN-like: uaf in docs/invariants.md). Every modelled kernel object
// lives in a slot that is never returned to the C++ heap while the run
// lasts: freeing marks it dead and a later allocation of the same type may
// reuse it as a new incarnation. A KPtr remembers the incarnation it was
// taken in, so an access after free is detected and recorded, and still
// reads defined memory (the stale or the reused object) instead of UB.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/field_name.h"
#include "host_driver_model/kernel/kernel.h"
#include "host_driver_model/kernel/object_name.h"
#include "host_driver_model/kernel/observer.h"
#include "host_driver_model/kernel/sched.h"

namespace qedisim::kern {

class RefVisitor;

struct ObjectHeader {
  const char* type = "";
  ObjectName name;  // "s0c0", "s0 itt 0x05"
  std::uint32_t incarnation = 0;
  std::uint32_t index = 0;  // slot number in its pool (libiscsi itt)
  bool live = false;
  std::int64_t alloc_ns = 0;
  std::int64_t free_ns = 0;
  const char* alloc_fn = "";
  const char* free_fn = "";
  const char* alloc_ctx = "";  // Context::lasting_name()
  const char* free_ctx = "";

  // kmemleak (kmemleak.h). `scan_refs` follows the object's pointer fields;
  // `allocation`: a slab object (a pool slot belongs to its pool and is
  // never one); `size_class`: what the kernel allocates it from;
  // `last_ctx`: the last context that accessed it through a KPtr.
  void (*scan_refs)(const void* obj, RefVisitor& v) = nullptr;
  const void* object = nullptr;
  const char* size_class = "";
  bool allocation = false;
  mutable std::uint64_t scan_mark = 0;
  mutable const Context* last_ctx = nullptr;
  // The observer's own record of this slot, kept here so that it is found
  // without a lookup (the checkers' object ids). Only the observer reads it,
  // and it checks the record is this header's: a header copied elsewhere
  // carries a record that is not its own.
  mutable void* observer_slot = nullptr;

  // "iscsi_task s0 itt 0x05 #3"
  std::string describe(std::uint32_t inc) const { return fmt::format("{} {} #{}", type, name, inc); }
  std::string describe() const { return describe(incarnation); }
};

template <typename T>
struct Tracked {
  ObjectHeader hdr;
  T obj{};
};

template <typename T>
class KPtr;

// What a kmemleak scan reaches from one pointer field: the object a KPtr
// points into (any incarnation: kmemleak, too, counts a stale pointer to a
// reused slot). Each object type lists its pointer fields in a
// `scan_refs(const T&, V& visit)` found by argument-dependent lookup;
// a type without one has none.
class RefVisitor {
 public:
  template <typename T>
  void operator()(const KPtr<T>& p) {
    reach(p.header());
  }
  template <typename T>
  void operator()(const std::vector<KPtr<T>>& list) {
    for (const KPtr<T>& p : list) reach(p.header());
  }
  // A live object not yet marked in this scan is marked and its fields are followed later.
  void reach(const ObjectHeader* h) {
    if (!h || !h->live || h->scan_mark == mark_) return;
    h->scan_mark = mark_;
    pending_.push_back(h);
  }
  // A pool slot, free or not: the pool's memory holds it and its fields.
  void reach_slot(const ObjectHeader& h) {
    if (h.scan_mark == mark_) return;
    h.scan_mark = mark_;
    pending_.push_back(&h);
  }

 private:
  friend class Kmemleak;
  explicit RefVisitor(std::uint64_t mark) : mark_(mark) {}
  std::uint64_t mark_;
  std::vector<const ObjectHeader*> pending_;
};

namespace detail {
template <typename T, typename = void>
struct HasRefs : std::false_type {};
template <typename T>
struct HasRefs<T, std::void_t<decltype(scan_refs(std::declval<const T&>(), std::declval<RefVisitor&>()))>>
    : std::true_type {};
template <typename T, typename = void>
struct SizeClass {
  static constexpr const char* value = "kmalloc";
};
template <typename T>
struct SizeClass<T, std::void_t<decltype(T::kSizeClass)>> {
  static constexpr const char* value = T::kSizeClass;
};
}  // namespace detail

// The scan hook of a T: its pointer fields, if it declares them.
template <typename T>
void scan_object(const void* obj, RefVisitor& v) {
  if constexpr (detail::HasRefs<T>::value) scan_refs(*static_cast<const T*>(obj), v);
}

// One slot's kmemleak identity, set when the slot is created.
template <typename T>
void init_scan_header(Tracked<T>& t, bool allocation) {
  t.hdr.scan_refs = &scan_object<T>;
  t.hdr.object = &t.obj;
  t.hdr.size_class = detail::SizeClass<T>::value;
  t.hdr.allocation = allocation;
}

// A slab cache as the kmemleak scan sees it: its live objects, in slot order.
class SlabCache {
 public:
  virtual void for_each_live(void (*fn)(const ObjectHeader&, void*), void* arg) const = 0;

 protected:
  SlabCache();
  ~SlabCache();
  SlabCache(const SlabCache&) = delete;
  SlabCache& operator=(const SlabCache&) = delete;
};

// kmemleak's view of allocation activity: a scan is needed only after one.
void note_heap_change();

template <typename T>
class KPtr {
 public:
  KPtr() = default;
  KPtr(std::nullptr_t) {}
  explicit KPtr(Tracked<T>* t) : t_(t), inc_(t ? t->hdr.incarnation : 0) {}
  // A pool slot read through its array while it sits free in the pool
  // (session->cmds[i] of a free task): the kernel reads defined memory there
  // (sc NULL, state FREE), so this view stays valid until the slot leaves the
  // pool again. A pointer taken while the slot was live still ends at the free.
  static KPtr pool_slot(Tracked<T>* t) {
    KPtr p(t);
    p.free_view_ = t && !t->hdr.live;
    return p;
  }

  bool is_null() const { return t_ == nullptr; }
  explicit operator bool() const { return t_ != nullptr; }
  // Still the object it was taken from (not freed, same incarnation); for a
  // free-slot view: the slot still free in the pool.
  bool valid() const { return t_ && t_->hdr.live != free_view_ && t_->hdr.incarnation == inc_; }
  std::uint32_t incarnation() const { return inc_; }
  const ObjectHeader* header() const { return t_ ? &t_->hdr : nullptr; }
  std::string describe() const { return t_ ? t_->hdr.describe(inc_) : std::string("NULL"); }

  // Checked access: null -> null_deref and the call is abandoned; freed or
  // reused -> use_after_free recorded, the slot's memory is returned.
  // `whole`: the access hands out a reference to an embedded struct
  // (&task->dd_data) whose fields are then accessed one by one: checked for
  // null and use-after-free, not reported as a field access itself.
  // `marked`: atomic_*, bitops, kref, READ_ONCE/WRITE_ONCE (KCSAN's marked access).
  // The common case inline at every site (kind, whole and marked are
  // constants there): ~60 instructions and a call less per access than out
  // of line. Null, ended or reused objects and armed stalls go the long way.
  [[gnu::always_inline]] T& use(AccessKind kind, const FieldName& field, bool whole = false,
                                bool marked = false) const {
    const bool rw = kind == AccessKind::read || kind == AccessKind::write;
    Kernel& k = Kernel::get();
    if (!t_ || !valid() || (!whole && !marked && rw && k.stalls_armed())) return use_slow(kind, field, whole, marked);
    if (!whole && rw) k.observer().field_access(t_->hdr, inc_, field, kind, marked);  // data_race
    t_->hdr.last_ctx = &k.current();
    return t_->obj;
  }
  [[gnu::noinline]] T& use_slow(AccessKind kind, const FieldName& field, bool whole, bool marked) const {
    if (!t_) null_deref(field);
    Kernel& k = Kernel::get();
    // A window at a plain access (sched.stall): the check below sees what
    // the other contexts did meanwhile.
    if (!whole && !marked && (kind == AccessKind::read || kind == AccessKind::write)) k.maybe_stall();
    Observer& o = k.observer();
    if (!valid())
      o.use_after_free(t_->hdr, inc_, kind, field.name);
    else if (!whole && (kind == AccessKind::read || kind == AccessKind::write))
      o.field_access(t_->hdr, inc_, field, kind, marked);  // data_race
    t_->hdr.last_ctx = Kernel::current_context();
    return t_->obj;
  }
  [[noreturn, gnu::noinline, gnu::cold]] static void null_deref(const FieldName& field) {
    Kernel::get().observer().null_deref(T::kTypeName, field.name);
    throw AbandonCall{Kernel::get().current().function()};
  }
  // The same slot in its current incarnation (a pool slot reused since this
  // pointer was taken): what a raw kernel pointer into the slot now reaches.
  KPtr current() const { return KPtr(t_); }
  // Unchecked: for bookkeeping that the kernel would not do through this pointer.
  T* raw() const { return t_ ? &t_->obj : nullptr; }

  friend bool operator==(const KPtr& a, const KPtr& b) { return a.t_ == b.t_ && a.inc_ == b.inc_; }
  friend bool operator!=(const KPtr& a, const KPtr& b) { return !(a == b); }

 private:
  template <typename U>
  friend class Slab;
  Tracked<T>* t_ = nullptr;
  std::uint32_t inc_ = 0;
  bool free_view_ = false;
};

// Read or write a field through a checked pointer: KRD(task, sc), KWR(cmd, state) = X.
#define KRD(p, field) ((p).use(::qedisim::kern::AccessKind::read, QEDISIM_FIELD(#field)).field)
#define KWR(p, field) ((p).use(::qedisim::kern::AccessKind::write, QEDISIM_FIELD(#field)).field)
// A field of an embedded struct, reported as "s.field": KRDF(task, dd_data, task_id).
#define KRDF(p, s, field) ((p).use(::qedisim::kern::AccessKind::read, QEDISIM_FIELD(#s "." #field)).s.field)
#define KWRF(p, s, field) ((p).use(::qedisim::kern::AccessKind::write, QEDISIM_FIELD(#s "." #field)).s.field)
// A marked access, where the kernel marks it: atomic_t, bitops (set_bit,
// test_bit), kref, READ_ONCE/WRITE_ONCE. KRDM(conn, suspend_tx).
#define KRDM(p, field) ((p).use(::qedisim::kern::AccessKind::read, QEDISIM_FIELD(#field), false, true).field)
#define KWRM(p, field) ((p).use(::qedisim::kern::AccessKind::write, QEDISIM_FIELD(#field), false, true).field)
// A timer or work embedded in the object, used through its own API
// (mod_timer, del_timer_sync: internally locked): checked, not a field access.
#define KTIMER(p, field) ((p).use(::qedisim::kern::AccessKind::timer, QEDISIM_FIELD(#field)).field)
// The embedded struct itself (QediConn& qc = KWRS(conn, dd_data)): checked, not an access.
#define KRDS(p, s) ((p).use(::qedisim::kern::AccessKind::read, QEDISIM_FIELD(#s), true).s)
#define KWRS(p, s) ((p).use(::qedisim::kern::AccessKind::write, QEDISIM_FIELD(#s), true).s)

// kmalloc/kzalloc + kfree for one object type. Freed slots wait in a FIFO
// quarantine before reuse, like KASAN's, so use-after-free reports name the
// freed object rather than its successor.
template <typename T>
class Slab : public SlabCache {
 public:
  explicit Slab(std::size_t quarantine = 64) : quarantine_(quarantine) {}

  KPtr<T> alloc(const ObjectName& name) {
    Tracked<T>* t = nullptr;
    if (free_.size() > quarantine_) {
      t = free_.front();
      free_.pop_front();
      // Objects hold events and timers: rebuild in place rather than assign.
      t->obj.~T();
      new (&t->obj) T();
    } else {
      slots_.push_back(std::make_unique<Tracked<T>>());
      t = slots_.back().get();
      init_scan_header(*t, true);
    }
    ++t->hdr.incarnation;
    t->hdr.type = T::kTypeName;
    t->hdr.name = name;  // reuses the slot's buffer
    t->hdr.live = true;
    stamp(t->hdr.alloc_ns, t->hdr.alloc_fn, t->hdr.alloc_ctx);
    t->hdr.last_ctx = Kernel::current_context();
    Kernel::get().observer().object_allocated(t->hdr);
    note_heap_change();
    ++live_;
    return KPtr<T>(t);
  }

  // kfree: a second free of the same incarnation is a double_free, not a crash.
  void free(const KPtr<T>& p) {
    if (p.is_null()) return;  // kfree(NULL)
    Tracked<T>* t = p.t_;
    if (!t->hdr.live || t->hdr.incarnation != p.inc_) {
      Kernel::get().observer().double_free(t->hdr, p.inc_);
      return;
    }
    t->hdr.live = false;
    stamp(t->hdr.free_ns, t->hdr.free_fn, t->hdr.free_ctx);
    Kernel::get().observer().object_freed(t->hdr);
    note_heap_change();
    free_.push_back(t);
    --live_;
  }

  std::size_t live() const { return live_; }
  std::size_t slots() const { return slots_.size(); }

  void for_each_live(void (*fn)(const ObjectHeader&, void*), void* arg) const override {
    for (const auto& s : slots_)
      if (s->hdr.live) fn(s->hdr, arg);
  }

 private:
  static void stamp(std::int64_t& at, const char*& fn, const char*& ctx) {
    Kernel& k = Kernel::get();
    at = Kernel::now_ns();
    fn = k.current().function();
    ctx = k.current().lasting_name();
  }

  std::size_t quarantine_;
  std::deque<std::unique_ptr<Tracked<T>>> slots_;
  std::deque<Tracked<T>*> free_;
  std::size_t live_ = 0;
};

}  // namespace qedisim::kern
