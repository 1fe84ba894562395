#include "host_driver_model/qedi/qedi_tid.h"

#include <stdexcept>

namespace qedisim::qedi {

TidBitmap::TidBitmap(std::uint32_t tids) : bits_(tids, false) {
  if (tids < 2 || tids > 0x10000) throw std::invalid_argument("hba.tids must be in [2, 65536]");
  bits_[QEDI_RESERVE_TASK_ID] = true;
  set_ = 1;
}

int TidBitmap::qedi_get_task_idx() {
  for (std::uint32_t tid = lowest_free_hint_; tid < bits_.size(); ++tid) {
    if (!bits_[tid]) {
      bits_[tid] = true;
      ++set_;
      lowest_free_hint_ = tid + 1;
      return static_cast<int>(tid);
    }
  }
  lowest_free_hint_ = static_cast<std::uint32_t>(bits_.size());
  return -1;
}

bool TidBitmap::qedi_clear_task_idx(std::uint32_t tid) {
  if (tid >= bits_.size() || !bits_[tid]) return false;
  bits_[tid] = false;
  --set_;
  if (tid < lowest_free_hint_) lowest_free_hint_ = tid;
  return true;
}

}  // namespace qedisim::qedi
