#include "sim/checkers/double_complete.h"

#include <fmt/format.h>

namespace qedisim::checkers {

DoubleCompleteChecker::Issue& DoubleCompleteChecker::issue(const ObjKey& key) {
  if (const std::uint32_t* at = issues_.find(key)) return records_[*at];
  std::uint32_t index = 0;
  if (free_.empty()) {
    index = static_cast<std::uint32_t>(records_.size());
    records_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
    records_[index] = Issue();
  }
  issues_[key] = index;
  return records_[index];
}

void DoubleCompleteChecker::finish(const ObjKey& key, Issue& i, const Site& at) {
  i.owner = Owner::finished;
  i.finished_at = at;
  finished_order_.push_back(key);
  while (finished_order_.size() > remember_) {
    const ObjKey& oldest = finished_order_.front();
    if (const std::uint32_t* at_index = issues_.find(oldest)) {
      free_.push_back(*at_index);
      issues_.erase(oldest);
    }
    finished_order_.pop_front();
  }
}

void DoubleCompleteChecker::scsi_done(const Site& at, const ObjRef& cmd) {
  Issue& i = issue(cmd.key);
  switch (i.owner) {
    case Owner::lld:
      i.first_done = at;
      finish(cmd.key, i, at);
      return;
    case Owner::eh:
      if (!i.absorbed) {
        i.absorbed = true;
        i.first_done = at;
        return;
      }
      report(at, cmd.desc, at.fn,
             fmt::format("second scsi_done while the EH owns the command; first by {} {}", i.first_done.fn,
                         where(i.first_done)));
      return;
    case Owner::finished:
      report(at, cmd.desc, at.fn,
             fmt::format("scsi_done via {} for a command already finished by {} {}", at.fn, i.finished_at.fn,
                         where(i.finished_at)));
      return;
  }
}

void DoubleCompleteChecker::eh_owns(const Site&, const ObjRef& cmd) {
  Issue& i = issue(cmd.key);
  if (i.owner == Owner::lld) i.owner = Owner::eh;
}

void DoubleCompleteChecker::eh_done(const Site& at, const ObjRef& cmd) {
  Issue& i = issue(cmd.key);
  if (i.owner != Owner::finished) finish(cmd.key, i, at);
}

}  // namespace qedisim::checkers
