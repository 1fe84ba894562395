// How a model asks "does a failpoint fire here?". The model reports each
// time a context reaches a named point (the names `qedisim points` lists)
// with what it knows there; the answer says what to do instead of the
// normal path. sim/failpoints implements it from the scenario; a model
// without a hook (nullptr) always takes the normal path.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/duration.h"
#include "common/vocabulary.h"

namespace qedisim {

// What the model knows at the point; unset fields match nothing that names them.
struct PointEvent {
  std::string_view point{};
  std::optional<std::uint32_t> session{};
  std::optional<std::uint32_t> lun{};
  std::optional<TmfFunction> function{};
  std::optional<CqeType> type{};
  std::optional<Gfp> gfp{};
  std::string_view site{};            // mem.alloc: the allocating kernel function
  std::optional<std::uint32_t> cq{};  // fw.cqe: the completion queue (one per CPU)
};

struct PointOutcome {
  bool drop = false;
  bool fail = false;
  Duration delay{};
  std::optional<TmfRespond> respond;
};

class FailpointHook {
 public:
  // A context reached `ev.point`; returns what to do there.
  virtual PointOutcome hit(const PointEvent& ev) = 0;

 protected:
  ~FailpointHook() = default;
};

}  // namespace qedisim
