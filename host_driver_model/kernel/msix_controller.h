// The host's interrupt controller for the HBA's MSI-X vectors: each vector
// message schedules that vector's handler (request_irq) as hard-irq work in
// its own SC_METHOD, one delta later; several messages before it runs
// coalesce into one invocation, as a pending interrupt does.
#pragma once

#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "hba_model/msix.h"

namespace qedisim::kern {

class MsixController : public sc_core::sc_module, public hba::MsixIf {
 public:
  using Handler = std::function<void(unsigned vector)>;

  MsixController(sc_core::sc_module_name name, unsigned vectors);

  // request_irq
  void request_irq(unsigned vector, Handler handler);
  // free_irq (after synchronize_irq): the vector's later messages reach no handler.
  void free_irq(unsigned vector);

  // hba::MsixIf
  void msix_raise(unsigned vector) override;

  std::uint64_t raised(unsigned vector) const { return raised_.at(vector); }

 private:
  std::vector<std::unique_ptr<sc_core::sc_event>> pending_;
  std::vector<Handler> handlers_;
  std::vector<std::uint64_t> raised_;
};

}  // namespace qedisim::kern

// The thin first-cut driver and tests/hba name it by its old namespace.
namespace qedisim {
namespace kernel = kern;
}
