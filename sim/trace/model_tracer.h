// Waveform signals of the host side and the firmware (issue 7), recorded at
// state changes: after any model activity the tracer samples the state and
// the Tracer keeps only values that changed. Scopes follow the model:
// host.session0 (TMF, session, transport and block state), host.session0.conn0
// (cleanup counters, active commands, TMF works), host.ctx.<context> (what
// each kernel context is doing), hba.fw, hba.cq<v>, checkers (one pulse per
// invariant id, added at the end of the run).
#pragma once

#include <string>
#include <systemc>
#include <vector>

#include "sim/checkers/violation.h"
#include "sim/idle_poll.h"
#include "sim/trace/tracer.h"

namespace qedisim {
namespace drv {
class Qedi;
}
namespace hba {
class Hba;
}

class ModelTracer : public sc_core::sc_module {
 public:
  ModelTracer(sc_core::sc_module_name name, Tracer& tracer, const drv::Qedi& qedi, const hba::Hba& hba,
              const std::vector<const sc_core::sc_event*>& activity, unsigned sessions);

  // One pulse signal per invariant id, high for 1 ns at each violation.
  void add_violation_pulses(const std::vector<Violation>& violations);

 private:
  struct SessionSignals {
    Tracer::SignalId tmf_state, session_state, cls_state, blocked;
    Tracer::SignalId c_stage, bound, cleanup_req, cleanup_cmpl, active_cmds, fw_cleanup_works, ep_disconnecting;
  };
  void declare_contexts();
  void sample();
  void poll();

  Tracer& tracer_;
  const drv::Qedi& qedi_;
  const hba::Hba& hba_;
  std::vector<SessionSignals> sessions_;
  std::vector<Tracer::SignalId> contexts_;
  std::size_t contexts_declared_ = 0;
  IdlePoll poll_{1'000'000};  // at least every millisecond while traced
  std::string scratch_;
  // What a context's signal was last built from. The initial value matches
  // no state: a context not waiting always has a function ("-" at least).
  struct CtxSeen {
    const char* wait = nullptr;
    bool idle = false;
    const char* fn = nullptr;
  };
  std::vector<CtxSeen> seen_;
  Tracer::SignalId tids_in_use_{}, tmf_works_queued_{}, tmf_work_running_{}, cleanups_pending_{};
  std::vector<Tracer::SignalId> cq_prod_, cq_cons_;
};

}  // namespace qedisim
