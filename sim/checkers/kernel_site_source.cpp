#include "sim/checkers/kernel_site_source.h"

#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kernel.h"
#include "host_driver_model/kernel/lock.h"

namespace qedisim::checkers {

Name context_name(const kern::Context& c) {
  // Context ids are never reused. Never destroyed: no exit handler for a
  // forked run to register (libiscsi.cpp, session_slab).
  static auto* by_id = new std::vector<Name>();
  if (c.id() >= by_id->size()) by_id->resize(c.id() + 1u);
  Name& n = (*by_id)[c.id()];
  if (n.empty()) n = Name(c.name());
  return n;
}

Site site_of(const kern::Context& c, std::int64_t now_ns) {
  // The last context and function asked for, and their names: consecutive
  // checker events mostly come from one kernel function (~15 a command).
  static std::uint32_t last_id = ~0u;
  static const char* last_fn = nullptr;
  static Name ctx_name, fn_name;
  if (c.id() != last_id) {
    ctx_name = context_name(c);
    last_id = c.id();
  }
  const char* fn = c.function();
  if (fn != last_fn) {
    fn_name = Name::of_literal(fn);
    last_fn = fn;
  }
  return Site{now_ns, ctx_name, fn_name};
}

Site KernelSiteSource::site() const { return site_of(kern::Kernel::get().current(), kern::Kernel::now_ns()); }

std::int64_t KernelSiteSource::now_ns() const { return kern::Kernel::now_ns(); }

std::vector<HeldLock> KernelSiteSource::held_locks() const {
  std::vector<HeldLock> out;
  for (const kern::Lock* l : kern::Kernel::get().current().held()) out.push_back(HeldLock{l, l->name()});
  return out;
}

LightSite KernelSiteSource::light_site() const {
  const kern::Context& c = kern::Kernel::get().current();
  LightSite s;
  s.ns = kern::Kernel::now_ns();
  s.ctx_id = c.id();
  s.ctx = c.name();
  s.fn = c.function();
  s.lock_chain = c.chain_key();
  s.lock_source = this;  // read only when the lockset is not known for this chain
  return s;
}

void KernelSiteSource::fill_locks(LightSite& s) const {
  s.nlocks = 0;
  for (const kern::Lock* l : kern::Kernel::get().current().held())
    if (s.nlocks < LightSite::kMaxLocks) s.locks[s.nlocks++] = LockRef{l, l->name()};
  s.lock_source = nullptr;
}

LightSite KernelSiteSource::context_site() const {
  const kern::Context& c = kern::Kernel::get().current();
  LightSite s;
  s.ctx_id = c.id();
  s.ctx = c.name();
  return s;
}

}  // namespace qedisim::checkers
