// MSI-X as the HBA raises it: one call per vector message. The host's
// interrupt controller implements it (host_driver_model/kernel/msix_controller).
#pragma once

#include <systemc>

namespace qedisim::hba {

class MsixIf : public virtual sc_core::sc_interface {
 public:
  virtual void msix_raise(unsigned vector) = 0;
};

}  // namespace qedisim::hba
