#include "sim/checkers/kernel_site_source.h"

#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kernel.h"
#include "host_driver_model/kernel/lock.h"

namespace qedisim::checkers {

Site KernelSiteSource::site() const {
  const kern::Context& c = kern::Kernel::get().current();
  return Site{kern::Kernel::now_ns(), c.name(), c.function()};
}

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
  s.lock_gen = c.lock_gen();
  for (const kern::Lock* l : c.held())
    if (s.nlocks < LightSite::kMaxLocks) s.locks[s.nlocks++] = LockRef{l, l->name()};
  return s;
}

LightSite KernelSiteSource::context_site() const {
  const kern::Context& c = kern::Kernel::get().current();
  LightSite s;
  s.ctx_id = c.id();
  s.ctx = c.name();
  return s;
}

}  // namespace qedisim::checkers
