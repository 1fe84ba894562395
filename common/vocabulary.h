// The closed vocabularies every layer shares: TMF functions, CQE types, GFP
// flags, reset and EH levels, control actions. Each enum has one name table
// (the scenario format's spelling) used for parsing, printing and the
// "(allowed: ...)" part of error messages.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qedisim {

enum class OpKind { read, write };
enum class TmfFunction { abort_task, lu_reset, target_reset };
enum class TmfRespond { complete, no_task, rejected };
enum class CqeType { solicited, cleanup, unsolicited, dummy };
enum class Gfp { atomic, noio, kernel };
enum class StopFlag { term, recover };
enum class ResetLevel { device, target, host };
enum class EhLevel { none, abort, device, target, session, host };

// The control operations a run can ask of the host: iscsid's netlink calls,
// link events, sg_reset/abort ioctls and the PCI remove of the HBA.
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

// The arguments of one control operation; each kind reads the ones it names.
struct ActionArgs {
  std::uint32_t session = 0;
  bool unbind_target = true;              // iscsid.terminate
  StopFlag flag = StopFlag::term;         // iscsid.stop_conn
  std::uint32_t lun = 0;                  // scsi.reset
  ResetLevel level = ResetLevel::device;  // scsi.reset
  std::uint32_t stream = 0;               // scsi.abort
  std::uint64_t op = 0;                   // scsi.abort
};

// Name table access, one specialisation per enum (defined next to the enum).
template <typename E>
struct EnumNames;

#define QEDISIM_ENUM_NAMES(E, N)                         \
  template <>                                            \
  struct EnumNames<E> {                                  \
    static const std::array<std::string_view, N>& all(); \
  }
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

// In the one .cpp that defines a table: QEDISIM_DEFINE_NAMES(E, N, "a", "b", ...).
#define QEDISIM_DEFINE_NAMES(E, N, ...)                              \
  const std::array<std::string_view, N>& EnumNames<E>::all() {       \
    static const std::array<std::string_view, N> names{__VA_ARGS__}; \
    return names;                                                    \
  }

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

}  // namespace qedisim
