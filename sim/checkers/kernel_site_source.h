// The SiteSource of a real run: the simulated kernel's current context,
// its innermost kernel function and SystemC time.
#pragma once

#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kernel.h"
#include "sim/checkers/site.h"

namespace qedisim::checkers {

// The interned name of a kernel context (looked up by its id after the first time).
Name context_name(const kern::Context& c);
// A Site in context `c` now: its name and innermost kernel function.
Site site_of(const kern::Context& c, std::int64_t now_ns);

class KernelSiteSource final : public SiteSource {
 public:
  // light_site(), inline for the callers that know the source is this one
  // (every tracked field access asks).
  LightSite light() const {
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
  Site site() const override;
  std::int64_t now_ns() const override;
  std::vector<HeldLock> held_locks() const override;
  LightSite light_site() const override;
  void fill_locks(LightSite& s) const override;
  LightSite context_site() const override;
};

}  // namespace qedisim::checkers
