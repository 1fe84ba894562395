// One checker finding (docs/invariants.md): recorded, never thrown.
#pragma once

#include <cstdint>
#include <string>

#include "sim/scenario/vocabulary.h"

namespace qedisim {

struct Violation {
  InvariantId id{};
  std::int64_t time_ns = 0;
  std::string context;      // kernel context: "eh/host0", "qedi_thread/1", "checker", ...
  std::string object;       // one instance: "iscsi_conn s0c0", "tid 0x01a"
  std::string function;     // model function under its kernel name
  std::string message;      // one line a kernel engineer would accept
  std::uint64_t count = 1;  // repeats of (id, object type, function)
};

// `id t=TIME ctx=CTX obj=OBJ fn=FN: message`
std::string format_violation(const Violation& v);

}  // namespace qedisim
