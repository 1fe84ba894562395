#include "sim/checkers/data_race.h"

#include <fmt/format.h>

#include <algorithm>

namespace qedisim::checkers {

namespace {
std::string lockset(const std::vector<HeldLock>& locks) {
  std::string s = "{";
  for (std::size_t i = 0; i < locks.size(); ++i) s += (i ? ", " : "") + locks[i].name;
  return s + "}";
}
bool share_lock(const std::vector<HeldLock>& a, const std::vector<HeldLock>& b) {
  for (const HeldLock& x : a)
    for (const HeldLock& y : b)
      if (x.id == y.id) return true;
  return false;
}
void join(std::vector<std::uint64_t>& into, const std::vector<std::uint64_t>& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (std::size_t i = 0; i < from.size(); ++i) into[i] = std::max(into[i], from[i]);
}
}  // namespace

std::size_t DataRaceChecker::ctx_index(const std::string& name) {
  const auto it = ctx_ids_.find(name);
  if (it != ctx_ids_.end()) return it->second;
  const std::size_t i = ctx_names_.size();
  ctx_ids_.emplace(name, i);
  ctx_names_.push_back(name);
  clocks_.emplace_back(i + 1, 0);
  clocks_[i][i] = 1;
  return i;
}

DataRaceChecker::Clock& DataRaceChecker::clock(std::size_t ctx) {
  Clock& c = clocks_[ctx];
  if (c.size() <= ctx) c.resize(ctx + 1, 0);
  return c;
}

bool DataRaceChecker::ordered(const Rec& earlier, std::size_t now_ctx) {
  const Clock& c = clock(now_ctx);
  return earlier.ctx < c.size() && earlier.epoch <= c[earlier.ctx];
}

void DataRaceChecker::send(const Site& at, const void* channel) {
  const std::size_t me = ctx_index(at.ctx);
  join(channels_[channel], clock(me));
  ++clock(me)[me];
}

void DataRaceChecker::recv(const Site& at, const void* channel) {
  const std::size_t me = ctx_index(at.ctx);
  const auto it = channels_.find(channel);
  if (it != channels_.end()) join(clock(me), it->second);
}

void DataRaceChecker::check(const Site& at, const ObjRef& obj, const std::string& field, const Rec& now,
                            const Rec& prior) {
  if (prior.ctx == now.ctx) return;
  if (!now.write && !prior.write) return;
  if (now.marked && prior.marked) return;
  if (share_lock(now.locks, prior.locks)) return;
  if (ordered(prior, now.ctx)) return;
  const std::string a = std::min(now.at.fn, prior.at.fn), b = std::max(now.at.fn, prior.at.fn);
  if (!reported_.insert(fmt::format("{}.{}|{}|{}", obj.type, field, a, b)).second) return;
  report(at, obj.desc, at.fn,
         fmt::format("{} of {} under {} vs {} in {} {} under {}; no common lock, no handoff",
                     now.write ? "write" : "read", field, lockset(now.locks), prior.write ? "write" : "read",
                     prior.at.fn, where(prior.at), lockset(prior.locks)));
}

void DataRaceChecker::access(const Site& at, const ObjRef& obj, const std::string& field, bool write, bool marked,
                             std::vector<HeldLock> locks) {
  const std::size_t me = ctx_index(at.ctx);
  std::sort(locks.begin(), locks.end());
  Rec now{me, clock(me)[me], std::move(locks), write, marked, at};
  Field& f = fields_[obj.key][field];
  if (f.last_write) check(at, obj, field, now, *f.last_write);
  if (write) {
    for (const auto& [ctx, r] : f.reads) check(at, obj, field, now, r);
    f.reads.clear();
    f.last_write = now;
  } else {
    f.reads[me] = now;
  }
}

void DataRaceChecker::object_freed(const ObjRef& obj) { fields_.erase(obj.key); }

}  // namespace qedisim::checkers
