// The closed vocabularies of scenario format v1 (SCENARIOS.md): invariant ids,
// enum-valued keys. Each enum has one name table used for parsing, printing
// and the "(allowed: ...)" part of error messages.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace qedisim {

// Invariant ids, SPEC.md section 5. data_race is a warning, the rest violations.
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
};
inline constexpr std::size_t kInvariantCount = 16;

enum class OpKind { read, write };
enum class TmfFunction { abort_task, lu_reset, target_reset };
enum class TmfRespond { complete, no_task, rejected };
enum class CqeType { solicited, cleanup, unsolicited, dummy };
enum class Gfp { atomic, noio, kernel };
enum class StopFlag { term, recover };
enum class ResetLevel { device, target, host };
enum class EhLevel { none, abort, device, target, session, host };

enum class ActionKind {
  iscsid_logout,
  iscsid_terminate,
  iscsid_ep_disconnect,
  iscsid_destroy_conn,
  iscsid_destroy_session,
  iscsid_stop_conn,
  iscsid_relogin,
  link_down,
  link_up,
  scsi_reset,
  scsi_abort,
  hba_remove,
};

// Name table access, one specialisation per enum (defined in vocabulary.cpp).
template <typename E>
struct EnumNames;

#define QEDISIM_ENUM_NAMES(E, N)                         \
  template <>                                            \
  struct EnumNames<E> {                                  \
    static const std::array<std::string_view, N>& all(); \
  }
QEDISIM_ENUM_NAMES(InvariantId, 16);
QEDISIM_ENUM_NAMES(OpKind, 2);
QEDISIM_ENUM_NAMES(TmfFunction, 3);
QEDISIM_ENUM_NAMES(TmfRespond, 3);
QEDISIM_ENUM_NAMES(CqeType, 4);
QEDISIM_ENUM_NAMES(Gfp, 3);
QEDISIM_ENUM_NAMES(StopFlag, 2);
QEDISIM_ENUM_NAMES(ResetLevel, 3);
QEDISIM_ENUM_NAMES(EhLevel, 6);
QEDISIM_ENUM_NAMES(ActionKind, 12);
#undef QEDISIM_ENUM_NAMES

template <typename E>
std::string_view to_string(E e) {
  return EnumNames<E>::all()[static_cast<std::size_t>(e)];
}

template <typename E>
std::optional<E> enum_from_string(std::string_view s) {
  const auto& names = EnumNames<E>::all();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

// "a, b, c" for error messages.
template <typename E>
std::string allowed_names() {
  std::string out;
  for (auto n : EnumNames<E>::all()) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// data_race goes to the report's warnings, never to violations (SPEC.md 5).
constexpr bool is_warning(InvariantId id) { return id == InvariantId::data_race; }

}  // namespace qedisim
