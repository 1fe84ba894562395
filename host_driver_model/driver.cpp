#include "host_driver_model/driver.h"

namespace qedisim::drv {

// The module globals of the modelled kernel (one simulation per process).
Driver& driver() {
  static Driver d;
  return d;
}

}  // namespace qedisim::drv
