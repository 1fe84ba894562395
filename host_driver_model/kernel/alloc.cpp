#include "host_driver_model/kernel/alloc.h"

#include <fmt/format.h>

#include <stdexcept>

#include "common/failpoint_hook.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kernel.h"

namespace qedisim::kern {

bool kmalloc_admit(Gfp gfp, std::string_view site, long session) {
  Kernel& k = Kernel::get();
  Context& self = k.current();
  const bool could_sleep = self.may_sleep_now();
  if (gfp != Gfp::atomic && !could_sleep)
    throw std::logic_error(fmt::format("modelling error: GFP_{} allocation in {} (context {}) that may not sleep",
                                       gfp == Gfp::noio ? "NOIO" : "KERNEL", self.function(), self.name()));
  if (!k.failpoints()) return true;
  PointEvent ev;
  ev.point = "mem.alloc";
  ev.gfp = gfp;
  ev.site = site;
  const PointOutcome out = k.failpoints()->hit(ev);
  k.set_current(&self);  // an `on:` action may have run kernel code in another context
  if (!out.fail) return true;
  k.observer().alloc_failed(gfp, site, could_sleep, session);
  return false;
}

}  // namespace qedisim::kern
