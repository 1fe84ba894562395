// The firmware's task contexts, indexed by tid (size hba.tids, tid 0
// reserved as in the driver's bitmap). Each entry records which connection
// and PDU itt the context was initialised for and where the task stands, so
// the firmware can match target responses and checkers can ask whether a tid
// is still live in the card. Pure C++.
#pragma once

#include <cstdint>
#include <vector>

namespace qedisim::hba {

enum class FwTaskState : std::uint8_t {
  idle,       // never used since reset
  queued,     // WQE fetched, context loaded, not yet on the wire (fw.wqe_latency)
  active,     // on the wire, waiting for the target
  cleaning,   // invalidated by a TASK_CLEANUP WQE; cleanup CQE pending
  completed,  // response delivered as a CQE
  cleaned,    // cleanup CQE posted
  flushed,    // dropped from the SQ by clear_sq before it ran
  dropped,    // connection destroyed while the task was live
};

const char* to_string(FwTaskState s);

// Live in the sense of fw_orphan (docs/invariants.md): fetched, executing or waiting.
constexpr bool fw_task_live(FwTaskState s) { return s == FwTaskState::queued || s == FwTaskState::active; }
// The firmware still holds the context (live or being cleaned).
constexpr bool fw_task_held(FwTaskState s) { return fw_task_live(s) || s == FwTaskState::cleaning; }

struct FwTask {
  FwTaskState state = FwTaskState::idle;
  std::uint16_t cid = 0;
  std::uint8_t opcode = 0;  // PDU opcode of the task
  std::uint8_t cq = 0;      // cq_rss_number
  std::uint32_t itt = 0;    // PDU itt
  std::uint64_t lun = 0;
  std::uint64_t generation = 0;  // bumped by each initialisation
};

class FwTaskTable {
 public:
  explicit FwTaskTable(std::uint32_t tids);

  std::uint32_t size() const { return static_cast<std::uint32_t>(tasks_.size()); }
  // tid 0 is reserved (QEDI_RESERVE_TASK_ID) and never a valid task.
  bool valid(std::uint32_t tid) const { return tid != 0 && tid < tasks_.size(); }
  const FwTask& at(std::uint16_t tid) const { return tasks_.at(tid); }

  struct InitResult {
    FwTask previous;
    // The context was still held for another (cid, itt): the firmware side of
    // tid_double_owner (docs/invariants.md).
    bool overwrote_held = false;
  };
  // A WQE's context is loaded for (cid, itt): state becomes queued.
  InitResult init(std::uint16_t tid, std::uint16_t cid, std::uint8_t opcode, std::uint32_t itt, std::uint64_t lun,
                  std::uint8_t cq);
  void set_state(std::uint16_t tid, FwTaskState state);

  // Contexts the firmware holds (queued, active or cleaning), excluding tid 0.
  std::uint32_t in_use() const { return in_use_; }
  // Tasks of connection cid that are queued or active.
  std::uint32_t live_on(std::uint16_t cid) const { return cid < per_cid_.size() ? per_cid_[cid].live : 0; }
  // Contexts of connection cid the firmware holds (queued, active or cleaning).
  std::uint32_t held_on(std::uint16_t cid) const { return cid < per_cid_.size() ? per_cid_[cid].held : 0; }

 private:
  void count(const FwTask& t, int delta);

  struct PerCid {
    std::uint32_t live = 0;
    std::uint32_t held = 0;
  };

  std::vector<FwTask> tasks_;
  std::uint32_t in_use_ = 0;
  std::vector<PerCid> per_cid_;  // indexed by cid, grown to the highest seen
};

}  // namespace qedisim::hba
