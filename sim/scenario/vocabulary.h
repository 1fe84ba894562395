// The scenario format's own vocabulary on top of the models' (common/):
// invariant ids (docs/invariants.md).
#pragma once

#include "common/vocabulary.h"

namespace qedisim {

// data_race is a warning, the rest violations.
enum class InvariantId {
  uaf,
  double_free,
  null_deref,
  leak,
  double_complete,
  tid_leak,
  tid_double_owner,
  wrong_task_cleanup,
  fw_orphan,
  xmit_after_unbind,
  work_after_disconnect,
  cleanup_stall,
  driver_session_state,
  data_race,
  hung_task,
  unnecessary_escalation,
  sq_overwrite,
};
inline constexpr std::size_t kInvariantCount = 17;

template <>
struct EnumNames<InvariantId> {
  static const std::array<std::string_view, kInvariantCount>& all();
};

// data_race goes to the report's warnings, never to violations (docs/invariants.md).
constexpr bool is_warning(InvariantId id) { return id == InvariantId::data_race; }

}  // namespace qedisim
