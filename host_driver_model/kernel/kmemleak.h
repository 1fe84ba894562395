// kmemleak (mm/kmemleak.c) for the model: every slab object is a tracked
// allocation; a scan marks what the roots reach through the pointer fields
// of reachable objects and returns the live allocations nothing reaches.
// The kernel's roots are its data and bss sections, per-CPU areas and task
// stacks; the model's are registered by the modules that hold them
// (libiscsi's session list, iscsid, qedi's tables and works, scsi-ml's
// requests) plus every queued work item and armed timer that names the
// object it is embedded in. Context stacks cannot be scanned, so a scan is
// sound only when no context is inside a call: at quiescent points.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host_driver_model/kernel/slab.h"

namespace qedisim::kern {

class Kmemleak {
 public:
  using RootFn = std::function<void(RefVisitor&)>;

  static Kmemleak& get();  // the registry of this process

  void add_cache(const SlabCache* c);
  void remove_cache(const SlabCache* c);
  // A root set held by `owner` (removed with remove_root); `name` for reports.
  void add_root(const void* owner, std::string name, RootFn fn);
  void remove_root(const void* owner);

  // Bumped by every slab allocation and free.
  std::uint64_t generation() const { return generation_; }
  void note_change() { ++generation_; }

  // Marks everything reachable; returns each live allocation not reached, in
  // cache registration order, then slot order (deterministic).
  std::vector<const ObjectHeader*> scan();
  std::uint64_t scans() const { return scans_; }

 private:
  struct Root {
    const void* owner;
    std::string name;
    RootFn fn;
  };
  std::vector<const SlabCache*> caches_;
  std::vector<Root> roots_;
  std::uint64_t generation_ = 0;
  std::uint64_t mark_ = 0;
  std::uint64_t scans_ = 0;
};

// A module's root set for its lifetime (a member: registered at
// construction, removed at destruction).
class KmemleakRoot {
 public:
  KmemleakRoot(const void* owner, std::string name, Kmemleak::RootFn fn) : owner_(owner) {
    Kmemleak::get().add_root(owner, std::move(name), std::move(fn));
  }
  ~KmemleakRoot() { Kmemleak::get().remove_root(owner_); }
  KmemleakRoot(const KmemleakRoot&) = delete;
  KmemleakRoot& operator=(const KmemleakRoot&) = delete;

 private:
  const void* owner_;
};

}  // namespace qedisim::kern
