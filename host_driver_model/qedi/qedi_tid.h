// The HBA-wide tid bitmap (qedi->task_idx_map, MAX_ISCSI_TASK_ENTRIES bits),
// shared by every session on the function. tid 0 (QEDI_RESERVE_TASK_ID) is
// set at probe. Pure C++.
#pragma once

#include <cstdint>
#include <vector>

namespace qedisim::qedi {

constexpr std::uint16_t QEDI_RESERVE_TASK_ID = 0;
constexpr std::uint16_t kNoTid = 0xffff;  // qedi_cmd->task_id = U16_MAX (p09)

class TidBitmap {
 public:
  explicit TidBitmap(std::uint32_t tids);

  // qedi_get_task_idx (drivers/scsi/qedi/qedi_main.c): find_first_zero_bit +
  // test_and_set_bit, so the lowest free tid is handed out. -1 = "FW task
  // context pool is full".
  int qedi_get_task_idx();
  // qedi_clear_task_idx: test_and_clear_bit. Returns false on a clear bit
  // ("FW task context, already cleared"): the caller counts a double free.
  bool qedi_clear_task_idx(std::uint32_t tid);

  bool test(std::uint32_t tid) const { return tid < bits_.size() && bits_[tid]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(bits_.size()); }
  // Set bits other than the reserved tid 0.
  std::uint32_t in_use() const { return set_ - 1; }

 private:
  std::vector<bool> bits_;
  std::uint32_t set_ = 0;
  std::uint32_t lowest_free_hint_ = 1;  // every tid below it is set
};

}  // namespace qedisim::qedi
