// sc_spawn: dynamic processes must be asked for before <systemc> is included.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "host_driver_model/kernel/msix_controller.h"

#include <string>

namespace qedisim::kern {

MsixController::MsixController(sc_core::sc_module_name name, unsigned vectors)
    : sc_module(name), handlers_(vectors), raised_(vectors, 0) {
  for (unsigned v = 0; v < vectors; ++v) {
    pending_.push_back(std::make_unique<sc_core::sc_event>());
    sc_core::sc_spawn_options opts;
    opts.spawn_method();
    opts.dont_initialize();
    opts.set_sensitivity(pending_.back().get());
    sc_core::sc_spawn(
        [this, v] {
          if (handlers_[v]) handlers_[v](v);
        },
        ("vector" + std::to_string(v)).c_str(), &opts);
  }
}

void MsixController::request_irq(unsigned vector, Handler handler) { handlers_.at(vector) = std::move(handler); }

void MsixController::free_irq(unsigned vector) { handlers_.at(vector) = nullptr; }

void MsixController::msix_raise(unsigned vector) {
  if (vector >= pending_.size()) return;
  ++raised_[vector];
  pending_[vector]->notify(sc_core::SC_ZERO_TIME);
}

}  // namespace qedisim::kern
