// double_complete (docs/invariants.md): scsi-ml's view of each command issue (a
// retry is a new issue): with the LLD, owned by the EH, finished. Fires on
// scsi_done for a finished issue, or a second scsi_done while the EH owns
// it; the first one during EH ownership is absorbed, as in the kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/hash_index.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class DoubleCompleteChecker : public Checker {
 public:
  explicit DoubleCompleteChecker(Findings& out, std::size_t remember_finished = 8192)
      : Checker(InvariantId::double_complete, out), remember_(remember_finished) {}
  void scsi_done(const Site& at, const ObjRef& cmd);
  void eh_owns(const Site& at, const ObjRef& cmd);
  void eh_done(const Site& at, const ObjRef& cmd);

 private:
  enum class Owner { lld, eh, finished };
  struct Issue {
    Owner owner = Owner::lld;
    bool absorbed = false;  // a scsi_done while the EH owned it
    Site first_done;
    Site finished_at;
    ObjKey key;              // whose issue this record holds
    std::uint32_t hash = 0;  // of the key (hash_of)
  };
  struct Finished {  // in finished_order_: a record and its key's hash, which find it in the index
    std::uint32_t index;
    std::uint32_t hash;
  };
  static std::uint32_t hash_of(const ObjKey& key);
  std::uint32_t issue(const ObjKey& key);  // the key's record, a new one (Owner::lld) when it had none
  void finish(std::uint32_t index, const Site& at);

  std::size_t remember_;
  // The index is probed at random once or twice a command and holds every
  // remembered issue (8,192 finished ones by default): at 8 bytes a slot
  // (HashIndex) it is 256 KiB at 32,768 slots, where the keys and issues
  // inline made 3 MiB. The key is compared in its record.
  HashIndex index_;
  std::vector<Issue> records_;
  std::vector<std::uint32_t> free_;      // records of forgotten issues, reused last freed first
  std::deque<Finished> finished_order_;  // oldest finished issues are forgotten first
};

}  // namespace qedisim::checkers
