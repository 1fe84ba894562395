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

#include "common/flat_map.h"
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
  };
  void finish(const ObjKey& key, Issue& i, const Site& at);
  Issue& issue(const ObjKey& key);  // the key's, Owner::lld when it had none

  std::size_t remember_;
  // Key -> index in records_: the table is probed at random once or twice
  // a command and holds every remembered issue (8,192 finished ones by
  // default), so its slots stay small (40 bytes, 1.25 MiB at 32,768 slots;
  // the issues inline made it 3 MiB); the records are reused through
  // free_, last freed first.
  FlatMap<ObjKey, std::uint32_t, ObjKeyHash> issues_;  // looked up by key only
  std::vector<Issue> records_;
  std::vector<std::uint32_t> free_;    // indexes in records_ of forgotten issues
  std::deque<ObjKey> finished_order_;  // oldest finished issues are forgotten first
};

}  // namespace qedisim::checkers
