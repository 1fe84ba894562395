#include "host_driver_model/kernel/kmemleak.h"

#include <algorithm>

namespace qedisim::kern {

Kmemleak& Kmemleak::get() {
  static Kmemleak k;
  return k;
}

void Kmemleak::add_cache(const SlabCache* c) { caches_.push_back(c); }

void Kmemleak::remove_cache(const SlabCache* c) {
  caches_.erase(std::remove(caches_.begin(), caches_.end(), c), caches_.end());
}

void Kmemleak::add_root(const void* owner, std::string name, RootFn fn) {
  roots_.push_back(Root{owner, std::move(name), std::move(fn)});
}

void Kmemleak::remove_root(const void* owner) {
  roots_.erase(std::remove_if(roots_.begin(), roots_.end(), [owner](const Root& r) { return r.owner == owner; }),
               roots_.end());
}

std::vector<const ObjectHeader*> Kmemleak::scan() {
  ++scans_;
  RefVisitor v(++mark_);
  for (const Root& r : roots_) r.fn(v);
  // Depth-first over the reached objects' pointer fields.
  while (!v.pending_.empty()) {
    const ObjectHeader* h = v.pending_.back();
    v.pending_.pop_back();
    if (h->scan_refs) h->scan_refs(h->object, v);
  }
  std::vector<const ObjectHeader*> unreached;
  struct Arg {
    std::uint64_t mark;
    std::vector<const ObjectHeader*>* out;
  } arg{mark_, &unreached};
  for (const SlabCache* c : caches_)
    c->for_each_live(
        [](const ObjectHeader& h, void* a) {
          auto* x = static_cast<Arg*>(a);
          if (h.allocation && h.scan_mark != x->mark) x->out->push_back(&h);
        },
        &arg);
  return unreached;
}

SlabCache::SlabCache() { Kmemleak::get().add_cache(this); }
SlabCache::~SlabCache() { Kmemleak::get().remove_cache(this); }

void note_heap_change() { Kmemleak::get().note_change(); }

}  // namespace qedisim::kern
