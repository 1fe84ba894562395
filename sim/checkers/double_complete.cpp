#include "sim/checkers/double_complete.h"

#include <fmt/format.h>

namespace qedisim::checkers {

std::uint32_t DoubleCompleteChecker::hash_of(const ObjKey& key) {
  const std::uint64_t h = static_cast<std::uint64_t>(ObjKeyHash()(key)) * 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::size_t DoubleCompleteChecker::probe(const ObjKey& key, std::uint32_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i].index_plus1 != 0 && !(slots_[i].hash == hash && records_[slots_[i].index_plus1 - 1].key == key))
    i = (i + 1) & mask;
  return i;
}

std::uint32_t DoubleCompleteChecker::issue(const ObjKey& key) {
  const std::uint32_t hash = hash_of(key);
  std::size_t i = probe(key, hash);
  if (slots_[i].index_plus1 != 0) return slots_[i].index_plus1 - 1;
  if ((count_ + 1) * 2 > slots_.size()) {
    grow();
    i = probe(key, hash);
  }
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
  slots_[i] = Slot{index + 1, hash};
  ++count_;
  return index;
}

void DoubleCompleteChecker::forget(const Finished& f) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = f.hash & mask;
  while (slots_[i].index_plus1 != f.index + 1) {
    if (slots_[i].index_plus1 == 0) return;  // not there
    i = (i + 1) & mask;
  }
  // Backward shift, no tombstone: an entry after the hole moves into it
  // unless its home lies cyclically in (hole, entry].
  for (std::size_t j = (i + 1) & mask; slots_[j].index_plus1 != 0; j = (j + 1) & mask) {
    const std::size_t home = slots_[j].hash & mask;
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --count_;
  free_.push_back(f.index);
}

void DoubleCompleteChecker::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.index_plus1 == 0) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].index_plus1 != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void DoubleCompleteChecker::finish(std::uint32_t index, const Site& at) {
  Issue& i = records_[index];
  i.owner = Owner::finished;
  i.finished_at = at;
  finished_order_.push_back(Finished{index, i.hash});
  while (finished_order_.size() > remember_) {
    forget(finished_order_.front());
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
