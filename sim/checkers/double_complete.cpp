#include "sim/checkers/double_complete.h"

#include <fmt/format.h>

namespace qedisim::checkers {

std::uint32_t DoubleCompleteChecker::hash_of(const ObjKey& key) {
  const std::uint64_t h = static_cast<std::uint64_t>(ObjKeyHash()(key)) * 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::uint32_t DoubleCompleteChecker::issue(const ObjKey& key) {
  const std::uint32_t hash = hash_of(key);
  if (const auto found = index_.find(hash, [&](std::uint32_t i) { return records_[i].key == key; })) return *found;
  std::uint32_t index = 0;
  if (free_.empty()) {
    index = static_cast<std::uint32_t>(records_.size());
    records_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
    records_[index] = Issue();
  }
  records_[index].key = key;
  records_[index].hash = hash;
  index_.insert(hash, index);
  return index;
}

void DoubleCompleteChecker::finish(std::uint32_t index, const Site& at) {
  Issue& i = records_[index];
  i.owner = Owner::finished;
  i.finished_at = at;
  finished_order_.push_back(Finished{index, i.hash});
  while (finished_order_.size() > remember_) {
    const Finished oldest = finished_order_.front();
    if (index_.erase(oldest.hash, oldest.index)) free_.push_back(oldest.index);
    finished_order_.pop_front();
  }
}

void DoubleCompleteChecker::scsi_done(const Site& at, const ObjRef& cmd) {
  const std::uint32_t index = issue(cmd.key);
  Issue& i = records_[index];
  switch (i.owner) {
    case Owner::lld:
      i.first_done = at;
      finish(index, at);
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
  Issue& i = records_[issue(cmd.key)];
  if (i.owner == Owner::lld) i.owner = Owner::eh;
}

void DoubleCompleteChecker::eh_done(const Site& at, const ObjRef& cmd) {
  const std::uint32_t index = issue(cmd.key);
  if (records_[index].owner != Owner::finished) finish(index, at);
}

}  // namespace qedisim::checkers
