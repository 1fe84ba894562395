// How a model declares its parameters: every delay, timeout and table size
// is a named value with a unit and a default. Each model lists its keys in
// an X-macro next to its code and gets a struct from it; sim/ composes the
// lists into the one table that `qedisim params` prints and the scenario
// loader validates (sim/scenario/params.h).
//
//   #define QEDISIM_FOO_PARAMS(X) <backslash>
//     X(foo_delay, "foo.delay", Duration, Duration::from_us(5), 0, "meaning") <backslash>
//     X(foo_slots, "foo.slots", Count, 16, 1, "meaning")
//   struct FooParams { QEDISIM_FOO_PARAMS(QEDISIM_PARAM_MEMBER) };
//
// X(member, "dotted.key", Kind, default, min, "meaning"): Kind is Duration
// (ns, >= 0) or Count (an integer of at least `min`; `min` is 0 for a
// Duration). Member names carry the key's prefix, so the composed struct
// has each once.
#pragma once

#include <cstdint>

#include "common/duration.h"

namespace qedisim {

using Count = std::uint64_t;

#define QEDISIM_PARAM_MEMBER(member, key, kind, def, min, meaning) kind member = def;

}  // namespace qedisim
