// cleanup_stall (docs/invariants.md). For each driver cleanup wait (the abort's
// victim wait, both waits of a bulk cleanup) the checker knows the awaited
// tids and counts by itself the TASK_CLEANUP CQEs the handler took for them
// (one handled after the tid's latest cleanup WQE). Fires (1) when the wait
// times out although every awaited CQE had been handled at least
// `wake_slack` before the deadline (CQEs that came late do not count);
// (2) whenever cmd_cleanup_cmpl exceeds cmd_cleanup_req.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host_driver_model/probes.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

// A wait that timed out although all it awaited had arrived in time.
struct StalledWait {
  long session = -1;
  drv::CleanupWaitKind kind{};
  Site begin;
  std::int64_t all_handled_ns = 0;
  std::int64_t deadline_ns = 0;
};

class CleanupStallChecker : public Checker {
 public:
  CleanupStallChecker(Findings& out, std::int64_t wake_slack_ns)
      : Checker(InvariantId::cleanup_stall, out), slack_ns_(wake_slack_ns) {}
  void cleanup_posted(const Site& at, std::uint16_t tid);
  void cqe_handled(const Site& at, std::uint16_t tid);
  void wait_begin(const Site& at, const ObjRef& conn, long session, drv::CleanupWaitKind kind,
                  const std::vector<std::uint16_t>& tids, std::int64_t deadline_ns);
  // Returns true and fills `stalled` when the wait stalled (finding recorded).
  bool wait_end(const Site& at, const ObjRef& conn, drv::CleanupWaitKind kind, bool timed_out, StalledWait& stalled);
  void counters(const Site& at, const ObjRef& conn, std::uint32_t req, std::uint32_t cmpl);

 private:
  struct Wait {
    long session = -1;
    Site begin;
    std::vector<std::uint16_t> tids;
    std::int64_t deadline_ns = 0;
    // When the round's cleanups were posted and waited for first: the wait's
    // own begin, or for the wait after the drain the begin of the first wait.
    std::int64_t round_ns = 0;
  };
  struct Counters {
    bool known = false;
    std::uint32_t req = 0;
    std::uint32_t cmpl = 0;
    bool over_reported = false;
  };
  static std::string wait_key(const ObjRef& conn, drv::CleanupWaitKind kind, const std::string& ctx);

  std::int64_t slack_ns_;
  std::map<std::uint16_t, std::int64_t> posted_ns_;   // latest cleanup WQE per tid
  std::map<std::uint16_t, std::int64_t> handled_ns_;  // latest cleanup CQE handled per tid
  std::map<std::string, Wait> waits_;
  std::map<std::string, std::int64_t> round_ns_;  // last first-wait begin by conn and context
  std::map<ObjKey, Counters> counters_;           // by conn key
};

const char* wait_word(drv::CleanupWaitKind k);

}  // namespace qedisim::checkers
