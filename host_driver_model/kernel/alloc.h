// kmalloc/kzalloc with a gfp flag (include/linux/slab.h, gfp.h). Every
// allocation passes the mem.alloc failpoint with {gfp, site}; a failure is
// reported to the observer (alloc_failed) and returned as NULL, as the
// kernel's allocator does under memory pressure. A sleeping allocation
// (GFP_NOIO, GFP_KERNEL) from a context that may not sleep is a modelling
// error (std::logic_error, exit 3), as it would be a "sleeping function
// called from invalid context" BUG in the kernel.
#pragma once

#include <string>
#include <string_view>

#include "common/vocabulary.h"
#include "host_driver_model/kernel/slab.h"

namespace qedisim::kern {

// The gfp check and the mem.alloc failpoint: true if the allocation may
// proceed. `site` is the kernel function that allocates ("qedi_abort_work"),
// `session` the session the object is for (-1: none; reported with a failure).
bool kmalloc_admit(Gfp gfp, std::string_view site, long session = -1);

// kzalloc(sizeof(T), gfp) from `slab`: NULL when the failpoint fails it.
template <typename T>
KPtr<T> kzalloc(Slab<T>& slab, Gfp gfp, std::string_view site, std::string name, long session = -1) {
  if (!kmalloc_admit(gfp, site, session)) return KPtr<T>();
  return slab.alloc(std::move(name));
}

}  // namespace qedisim::kern
