#include "sim/checkers/double_complete.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void DoubleCompleteChecker::finish(const ObjKey& key, Issue& i, const Site& at) {
  i.owner = Owner::finished;
  i.finished_at = at;
  finished_order_.push_back(key);
  while (finished_order_.size() > remember_) {
    issues_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

void DoubleCompleteChecker::scsi_done(const Site& at, const ObjRef& cmd) {
  Issue& i = issues_[cmd.key];
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
  Issue& i = issues_[cmd.key];
  if (i.owner == Owner::lld) i.owner = Owner::eh;
}

void DoubleCompleteChecker::eh_done(const Site& at, const ObjRef& cmd) {
  Issue& i = issues_[cmd.key];
  if (i.owner != Owner::finished) finish(cmd.key, i, at);
}

}  // namespace qedisim::checkers
