// printk for the model (include/linux/printk.h): a line in the kernel-style
// log, stamped with the simulated time, the running context and the kernel
// function; formatted only when a log is being written (`--log`). Messages
// keep the kernel's own texts where the kernel prints.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>

#include "common/event_sink.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kernel.h"

namespace qedisim::kern {

// One log record from the current context.
void emit_log(EvSys sys, std::int32_t session, std::string_view text);
// A timeline record from the current context (slices, flows, counters).
void emit_timeline(EvKind kind, EvSys sys, std::string_view text, std::uint64_t id = 0, std::int64_t value = 0);

// The start of flow `id` in context `ctx` at `ns` (the current time or just
// before it), emitted late: a wake_up draws its arrow once a waiter returns.
void emit_flow_out_from(std::string_view ctx, std::int64_t ns, EvSys sys, std::string_view text, std::uint64_t id);

// A fresh id for a flow arrow (--trace).
std::uint64_t next_flow_id();

template <typename... A>
void printk(EvSys sys, std::int32_t session, fmt::format_string<A...> f, A&&... args) {
  if (!Kernel::events) return;
  emit_log(sys, session, fmt::format(f, std::forward<A>(args)...));
}

}  // namespace qedisim::kern
