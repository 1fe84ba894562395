#include "sim/checkers/leak.h"

#include <fmt/format.h>

#include <algorithm>

#include "host_driver_model/kernel/context.h"

namespace qedisim::checkers {

namespace {
// The last accessor's name, if that context still exists.
std::string last_context(const kern::ObjectHeader& h) {
  const auto& all = kern::Context::all();
  if (h.last_ctx && std::find(all.begin(), all.end(), h.last_ctx) != all.end()) return h.last_ctx->name();
  return "-";
}
}  // namespace

void LeakChecker::judge(std::int64_t now_ns, const std::vector<const kern::ObjectHeader*>& unreferenced) {
  for (const kern::ObjectHeader* h : unreferenced) {
    if (!reported_.emplace(h, h->incarnation).second) continue;
    report(Site{now_ns, "kmemleak", "-"}, h->describe(), h->alloc_fn,
           fmt::format("unreferenced object ({}): allocated by {} ({}, {}), last accessed by {}; no session, "
                       "conn, qedi table, request, queued work or armed timer points to it",
                       h->size_class, h->alloc_fn, h->alloc_ctx, secs(h->alloc_ns), last_context(*h)));
  }
}

}  // namespace qedisim::checkers
