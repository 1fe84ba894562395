#include "sim/checkers/sq_overwrite.h"

#include <fmt/format.h>

#include <utility>

namespace qedisim::checkers {

void SqOverwriteChecker::once(const Site& at, std::uint16_t cid, std::string message) {
  if (!reported_.insert(cid).second) return;
  report(at, fmt::format("SQ cid 0x{:x}", cid), at.fn, std::move(message));
}

SqOverwriteChecker::Slot& SqOverwriteChecker::entry(std::uint16_t cid, std::uint32_t slot) {
  std::vector<Slot>& ring = slots_[cid];
  if (slot >= ring.size()) ring.resize(slot + std::size_t{1});
  return ring[slot];
}

void SqOverwriteChecker::slot_written(const Site& at, std::uint16_t cid, std::uint32_t slot, std::uint16_t tid) {
  Slot& s = entry(cid, slot);
  if (s.pending)
    once(at, cid,
         fmt::format("slot {} rewritten with the WQE for tid 0x{:03x} before the firmware fetched its WQE for tid "
                     "0x{:03x} (written by {} {}): that WQE is lost",
                     slot, tid, s.tid, s.at.fn, where(s.at)));
  s = Slot{true, true, tid, at};
}

void SqOverwriteChecker::slot_fetched(const Site& at, std::uint16_t cid, std::uint32_t slot, std::uint16_t tid) {
  Slot& s = entry(cid, slot);
  if (!s.pending)
    once(at, cid,
         s.ever ? fmt::format("firmware fetched slot {} (tid 0x{:03x}), which the driver has not written since the "
                              "firmware last fetched it (written by {} {}): a stale WQE runs again",
                              slot, tid, s.at.fn, where(s.at))
                : fmt::format("firmware fetched slot {} (tid 0x{:03x}), which the driver never wrote", slot, tid));
  s.pending = false;
}

void SqOverwriteChecker::doorbell_refused(const Site& at, std::uint16_t cid, std::uint32_t prod, std::uint32_t cons,
                                          std::uint32_t size) {
  once(at, cid,
       fmt::format("doorbell producer {} is {} the firmware's consumer {} (ring of {}): a stale producer; a "
                   "firmware that takes it as the new producer fetches stale slots (this one refuses it)",
                   prod, static_cast<std::int32_t>(prod - cons) < 0 ? "behind" : "further than the ring beyond", cons,
                   size));
}

void SqOverwriteChecker::discarded(std::uint16_t cid) { slots_.erase(cid); }

}  // namespace qedisim::checkers
