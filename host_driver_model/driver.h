// Module-level state of the modelled kernel that every layer reaches, as
// the kernel's globals and per-host structures are: parameters, the fix
// set, the probes, the LLD's transport ops, the sessions.
#pragma once

#include <vector>

#include "host_driver_model/driver_params.h"
#include "host_driver_model/fixes.h"
#include "host_driver_model/kernel/kernel.h"
#include "host_driver_model/libiscsi/iscsi_objects.h"
#include "host_driver_model/libiscsi/transport.h"
#include "host_driver_model/probes.h"

namespace qedisim::drv {

struct Driver {
  const DriverParams* params = nullptr;
  FixSet fixes;
  DriverObserver* probes = nullptr;
  IscsiTransport* transport = nullptr;
  std::vector<kern::KPtr<IscsiSession>> sessions;  // by session id
};

// The one Driver of this process (set up by the host stack at elaboration).
// Inline: every fixed(), params() and probes() asks, ~50 times a command.
inline Driver& driver() {
  static Driver d;
  return d;
}
inline bool fixed(Patch p) { return driver().fixes.fixed(p); }
inline const DriverParams& params() { return *driver().params; }
inline DriverObserver& probes() { return *driver().probes; }

}  // namespace qedisim::drv
