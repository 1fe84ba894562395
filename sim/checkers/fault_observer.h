// Outside causes (cleanup_stall, unnecessary_escalation in docs/invariants.md): the testbench tells the checkers
// when a failpoint changed what a point did, or when a control action broke
// the link. unnecessary_escalation is silenced by an outside cause during
// the abort attempt it judges. Pure C++.
//
// Where to call it: wherever Failpoints::hit returns an outcome that is not
// empty (drop, fail, respond, or delay > 0), the caller or a wrapper in the
// testbench calls fault_injected once with the point, the session the event
// named and the outcome, at the simulated time of the hit. The action runner
// calls it for `link.down` (point "link.down", kind fail) and `hba.remove`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace qedisim::checkers {

enum class FaultKind { drop, delay, respond, fail };

struct InjectedFault {
  std::string point;                     // "target.tmf_rsp", "fw.cqe", "mem.alloc", "link.down"
  std::optional<std::uint32_t> session;  // unset: may affect every session
  FaultKind kind = FaultKind::delay;
  std::int64_t delay_ns = 0;  // for delay
  std::int64_t at_ns = 0;     // when the point was hit
};

class FaultObserver {
 public:
  virtual ~FaultObserver() = default;
  virtual void fault_injected(const InjectedFault& fault) = 0;
};

const char* to_string(FaultKind k);

}  // namespace qedisim::checkers
