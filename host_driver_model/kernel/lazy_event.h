// An sc_event built on first use. SystemC names and registers every event
// built before the simulation starts (sc_gen_unique_name and the object
// registry: ~6,000 instructions each, ~50 per run, paid again by every
// explore child); one built while the simulation runs costs ~80. For the
// events that running processes wait on and notify (wait queues, lock
// release, workqueues, timer callbacks), never a static sensitivity: the
// behaviour is the same, only the building moves.
#pragma once

#include <optional>
#include <systemc>

namespace qedisim::kern {

class LazyEvent {
 public:
  LazyEvent() = default;
  LazyEvent(const LazyEvent&) = delete;
  LazyEvent& operator=(const LazyEvent&) = delete;

  sc_core::sc_event& get() {
    if (!ev_) ev_.emplace();
    return *ev_;
  }
  void notify_delta() { get().notify(sc_core::SC_ZERO_TIME); }

 private:
  std::optional<sc_core::sc_event> ev_;
};

}  // namespace qedisim::kern
