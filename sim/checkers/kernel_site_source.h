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
  Site site() const override;
  std::int64_t now_ns() const override;
  std::vector<HeldLock> held_locks() const override;
  LightSite light_site() const override;
  void fill_locks(LightSite& s) const override;
  LightSite context_site() const override;
};

}  // namespace qedisim::checkers
