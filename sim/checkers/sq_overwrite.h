// sq_overwrite (docs/invariants.md): the send queue is a ring the driver
// writes and the firmware fetches. Each slot the driver writes must be
// fetched before the driver writes it again, the firmware must never fetch
// a slot the driver has not written since its last fetch (a stale WQE run a
// second time), and a doorbell must never move the producer behind the
// firmware's consumer or past the ring. Two contexts posting on one SQ
// without a common lock (qedi_get_wqe_idx) break it. Judged per (cid, slot)
// from the slot writes and the firmware's fetches, refused doorbells and
// SQ discards; reported once per connection id.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/checkers/checker.h"

namespace qedisim::checkers {

class SqOverwriteChecker : public Checker {
 public:
  explicit SqOverwriteChecker(Findings& out) : Checker(InvariantId::sq_overwrite, out) {}
  // The driver wrote the WQE for `tid` into slot `slot` of cid's SQ.
  void slot_written(const Site& at, std::uint16_t cid, std::uint32_t slot, std::uint16_t tid);
  // The firmware fetched slot `slot` of cid's SQ, a WQE for `tid`.
  void slot_fetched(const Site& at, std::uint16_t cid, std::uint32_t slot, std::uint16_t tid);
  // A doorbell the firmware refused: producer `prod`, its consumer `cons`.
  void doorbell_refused(const Site& at, std::uint16_t cid, std::uint32_t prod, std::uint32_t cons, std::uint32_t size);
  // clear_sq / destroy_conn: every unfetched WQE of cid dropped on purpose.
  void discarded(std::uint16_t cid);

 private:
  struct Slot {
    bool pending = false;  // written, not yet fetched
    bool ever = false;     // written at least once since the connection began
    std::uint16_t tid = 0;
    Site at;
  };
  void once(const Site& at, std::uint16_t cid, std::string message);

  Slot& entry(std::uint16_t cid, std::uint32_t slot);  // made when first asked for
  // By cid, then indexed by slot: a ring's slots are few and dense, and
  // every WQE written and fetched looks its slot up.
  std::map<std::uint16_t, std::vector<Slot>> slots_;
  std::set<std::uint16_t> reported_;
};

}  // namespace qedisim::checkers
