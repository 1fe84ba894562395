// data_race (docs/invariants.md), a warning. Eraser-style lockset with a
// happens-before filter over fields of modelled objects. Per field instance
// it keeps the last write and each context's last read, with lockset and
// vector-clock epoch. Locks: every lock the context holds; one serial domain
// per context (an ordered workqueue's worker, a per-CPU io thread) is implicit
// because accesses of one context never race. Clocks join at handoffs
// (send/recv on a channel: wake_up -> woken wait, queue_work -> work start,
// timer arm -> callback, ...). Marked accesses are exempt against marked
// ones. Fires when two accesses of different contexts conflict (one a plain
// write), share no lock and are unordered; once per field and pair of sites.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class DataRaceChecker : public Checker {
 public:
  explicit DataRaceChecker(Findings& out) : Checker(InvariantId::data_race, out) {}
  void access(const Site& at, const ObjRef& obj, const std::string& field, bool write, bool marked,
              std::vector<HeldLock> locks);
  void send(const Site& at, const void* channel);
  void recv(const Site& at, const void* channel);
  // The object's incarnation ended: forget its fields.
  void object_freed(const ObjRef& obj);

 private:
  using Clock = std::vector<std::uint64_t>;
  struct Rec {
    std::size_t ctx = 0;
    std::uint64_t epoch = 0;
    std::vector<HeldLock> locks;  // sorted
    bool write = false;
    bool marked = false;
    Site at;
  };
  struct Field {
    std::optional<Rec> last_write;
    std::map<std::size_t, Rec> reads;  // by context index
  };
  std::size_t ctx_index(const std::string& name);
  Clock& clock(std::size_t ctx);
  bool ordered(const Rec& earlier, std::size_t now_ctx);
  void check(const Site& at, const ObjRef& obj, const std::string& field, const Rec& now, const Rec& prior);

  std::map<std::string, std::size_t> ctx_ids_;  // assigned in order of first appearance
  std::vector<std::string> ctx_names_;
  std::vector<Clock> clocks_;
  std::unordered_map<const void*, Clock> channels_;             // looked up, never iterated
  std::map<std::string, std::map<std::string, Field>> fields_;  // object key -> field -> state
  std::set<std::string> reported_;
};

}  // namespace qedisim::checkers
