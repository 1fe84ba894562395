#include "hba_model/fw_task_table.h"

#include <stdexcept>

namespace qedisim::hba {

const char* to_string(FwTaskState s) {
  switch (s) {
    case FwTaskState::idle:
      return "idle";
    case FwTaskState::queued:
      return "queued";
    case FwTaskState::active:
      return "active";
    case FwTaskState::cleaning:
      return "cleaning";
    case FwTaskState::completed:
      return "completed";
    case FwTaskState::cleaned:
      return "cleaned";
    case FwTaskState::flushed:
      return "flushed";
    case FwTaskState::dropped:
      return "dropped";
  }
  return "?";
}

FwTaskTable::FwTaskTable(std::uint32_t tids) : tasks_(tids) {
  if (tids < 2) throw std::invalid_argument("hba.tids must be at least 2 (tid 0 is reserved)");
}

void FwTaskTable::count(const FwTask& t, int delta) {
  if (!fw_task_held(t.state)) return;
  const auto step = [delta](std::uint32_t& n) { n = delta > 0 ? n + 1 : n - 1; };
  if (t.cid >= per_cid_.size()) per_cid_.resize(std::size_t{t.cid} + 1);
  PerCid& c = per_cid_[t.cid];
  step(in_use_);
  step(c.held);
  if (fw_task_live(t.state)) step(c.live);
}

FwTaskTable::InitResult FwTaskTable::init(std::uint16_t tid, std::uint16_t cid, std::uint8_t opcode, std::uint32_t itt,
                                          std::uint64_t lun, std::uint8_t cq) {
  FwTask& t = tasks_.at(tid);
  InitResult r{t, fw_task_held(t.state) && (t.cid != cid || t.itt != itt)};
  count(t, -1);
  t.state = FwTaskState::queued;
  t.cid = cid;
  t.opcode = opcode;
  t.itt = itt;
  t.lun = lun;
  t.cq = cq;
  ++t.generation;
  count(t, +1);
  return r;
}

void FwTaskTable::set_state(std::uint16_t tid, FwTaskState state) {
  FwTask& t = tasks_.at(tid);
  count(t, -1);
  t.state = state;
  count(t, +1);
}

}  // namespace qedisim::hba
