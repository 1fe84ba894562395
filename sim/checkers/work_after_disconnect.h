// work_after_disconnect (docs/invariants.md). TMF works of conn C: abort works
// and reset-response works. The barrier is where qedi_ep_disconnect(C)
// stops waiting for them, however the wait ends. Fires (1) for each TMF work
// of C queued or running at the barrier; (2) when, after the barrier and
// until C is started again, a TMF work of C is queued or executes a step
// (once per work). A work queued earlier and waited for is correct.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host_driver_model/probes.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class WorkAfterDisconnectChecker : public Checker {
 public:
  explicit WorkAfterDisconnectChecker(Findings& out) : Checker(InvariantId::work_after_disconnect, out) {}
  void queued(const Site& at, const ObjRef& conn, drv::TmfWorkKind kind, const void* work);
  void step(const Site& at, const ObjRef& conn, drv::TmfWorkKind kind, const void* work);
  void done(const Site& at, const ObjRef& conn, drv::TmfWorkKind kind, const void* work);
  void barrier(const Site& at, const ObjRef& conn);
  void returned(const Site& at, const ObjRef& conn);
  void conn_started(const Site& at, const ObjRef& conn);

 private:
  struct Work {
    const void* id = nullptr;  // identity only, never iterated by address
    drv::TmfWorkKind kind{};
    bool running = false;
    Site queued_at;
    bool reported = false;
  };
  struct Conn {
    std::vector<Work> works;  // queue order
    bool passed = false;
    Site barrier_at;
    bool returned = false;
    Site returned_at;
  };
  Work* find(Conn& c, const void* work);
  std::string after_barrier(const Conn& c) const;

  std::map<ObjKey, Conn> conns_;  // by conn key
};

const char* work_word(drv::TmfWorkKind k);

}  // namespace qedisim::checkers
