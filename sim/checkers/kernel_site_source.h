// The SiteSource of a real run: the simulated kernel's current context,
// its innermost kernel function and SystemC time.
#pragma once

#include "sim/checkers/site.h"

namespace qedisim::checkers {

class KernelSiteSource : public SiteSource {
 public:
  Site site() const override;
  std::int64_t now_ns() const override;
  std::vector<HeldLock> held_locks() const override;
  LightSite light_site() const override;
  LightSite context_site() const override;
};

}  // namespace qedisim::checkers
