#include "sim/checkers/data_race.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <tuple>

#include "common/max_into.h"
#include "host_driver_model/kernel/slab.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

void DataRaceChecker::join(Clock& into, const Clock& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  max_into(into.data(), from.data(), from.size());
}

std::uint16_t DataRaceChecker::ctx_index_slow(std::uint32_t ctx_id, const SiteSource& source) {
  if (ctx_id < ctx_of_id_.size() && ctx_of_id_[ctx_id]) {
    last_ctx_id_ = ctx_id;
    last_ctx_ = ctx_of_id_[ctx_id];
    return static_cast<std::uint16_t>(last_ctx_ - 1);
  }
  if (ctx_id >= ctx_of_id_.size()) ctx_of_id_.resize(ctx_id + 1u, 0);
  const auto i = static_cast<std::uint16_t>(ctx_names_.size());
  ctx_of_id_[ctx_id] = static_cast<std::uint16_t>(i + 1);
  ctx_names_.emplace_back(source.light_site().ctx);  // first sight: the name is wanted
  gen_.push_back(0);
  clocks_.emplace_back(i + 1u, 0u);
  clocks_[i][i] = 1;
  epoch_.push_back(1);
  return i;
}

std::uint32_t DataRaceChecker::lockset_slow(std::uint32_t lock_chain, const SiteSource& source) {
  LightSite at = source.light_site();  // only its locks are read
  if (at.lock_source) at.lock_source->fill_locks(at);
  std::uint32_t id = 0;
  if (at.nlocks > 0) {
    const auto hash_of = [](const void* const* ids, std::size_t n) {
      std::uint64_t h = n;
      for (std::size_t i = 0; i < n; ++i) h = (h ^ reinterpret_cast<std::uintptr_t>(ids[i])) * 0x9E3779B97F4A7C15ull;
      return static_cast<std::size_t>(h ^ (h >> 29));
    };
    const void* ids[LightSite::kMaxLocks];
    for (std::size_t i = 0; i < at.nlocks; ++i) ids[i] = at.locks[i].id;
    std::size_t mask = lockset_slots_.size() - 1;
    std::size_t i = hash_of(ids, at.nlocks) & mask;
    for (; lockset_slots_[i]; i = (i + 1) & mask) {
      const auto& known = locksets_[lockset_slots_[i]].ids;
      if (known.size() == at.nlocks && std::equal(known.begin(), known.end(), ids)) break;
    }
    if (lockset_slots_[i]) {
      id = lockset_slots_[i];
    } else {
      id = static_cast<std::uint32_t>(locksets_.size());
      Lockset ls{std::vector<const void*>(ids, ids + at.nlocks), {}};
      for (std::size_t k = 0; k < at.nlocks; ++k) ls.names.push_back(at.locks[k].name);
      locksets_.push_back(std::move(ls));
      if (locksets_.size() * 2 > lockset_slots_.size()) {  // grow at half full, re-placing every set
        lockset_slots_.assign(lockset_slots_.size() * 2, 0);
        mask = lockset_slots_.size() - 1;
        for (std::uint32_t k = 1; k < locksets_.size(); ++k) {
          std::size_t j = hash_of(locksets_[k].ids.data(), locksets_[k].ids.size()) & mask;
          while (lockset_slots_[j]) j = (j + 1) & mask;
          lockset_slots_[j] = k;
        }
      } else {
        lockset_slots_[i] = id;
      }
    }
  }
  if (lock_chain != 0) {
    if (lock_chain >= lockset_of_chain_.size()) lockset_of_chain_.resize(lock_chain + 1u, 0);
    lockset_of_chain_[lock_chain] = id + 1;
  }
  return id;
}

bool DataRaceChecker::share_lock(std::uint32_t a, std::uint32_t b) const {
  if (a == 0 || b == 0) return false;
  if (a == b) return true;
  for (const void* x : locksets_[a].ids)
    for (const void* y : locksets_[b].ids)
      if (x == y) return true;
  return false;
}

std::string DataRaceChecker::lockset_text(std::uint32_t ls) const {
  std::string s = "{";
  const auto& names = locksets_[ls].names;
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + std::string(names[i]);
  return s + "}";
}

DataRaceChecker::Field& DataRaceChecker::shadow_insert(const void* obj, std::uint32_t field, const char* field_name) {
  // A field id always has the same name: kept at its first shadow cell, which
  // any report on the field comes after.
  const auto [known, added] = field_names_.try_emplace(field, field_name);
  if (!added && known->second != field_name && std::strcmp(known->second, field_name) != 0)
    throw std::logic_error(
        fmt::format("data_race: fields \"{}\" and \"{}\" hash to one id", known->second, field_name));
  Field& cell = fields_.emplace_back();  // throws std::length_error when full, before the index holds it
  shadow_index_.insert(obj, field, static_cast<std::uint32_t>(fields_.size() - 1));
  return cell;
}

DataRaceChecker::Channel& DataRaceChecker::channel_insert(const void* key) {
  channel_index_.insert(key, 0, static_cast<std::uint32_t>(channels_.size()));
  channels_.emplace_back();
  return channels_.back();
}

void DataRaceChecker::check(const SiteSource& source, const kern::ObjectHeader& obj, std::uint32_t inc,
                            std::uint32_t field, const Rec& now, const Rec& prior) {
  // Either one clears the pair; the order check is the cheaper of the two.
  if (ordered(prior, clock(now.ctx))) return;
  if (share_lock(now.lockset, prior.lockset)) return;
  // The access races; nothing below runs otherwise.
  if (!wanted()) return;  // its warning is not kept (a campaign child): nothing to build
  // A pair reported before is most often known by its pointers: a timer's
  // pass that races every time would otherwise format its key each time.
  const auto seen = std::make_tuple(static_cast<const void*>(obj.type), field,
                                    static_cast<const void*>(std::min(now.fn, prior.fn, std::less<const char*>())),
                                    static_cast<const void*>(std::max(now.fn, prior.fn, std::less<const char*>())));
  if (reported_ptrs_.count(seen)) return;
  const std::string name = field_names_.at(field);
  const std::string a = std::min<std::string>(now.fn, prior.fn), b = std::max<std::string>(now.fn, prior.fn);
  const bool first = reported_.insert(fmt::format("{}.{}|{}|{}", obj.type, name, a, b)).second;
  reported_ptrs_.insert(seen);  // the same pointers always make the same key
  if (!first) return;
  const Site here{now.ns, Name(source.light_site().ctx), Name::of_literal(now.fn)};
  const Site then{prior.ns, ctx_names_[prior.ctx], prior.fn};
  report(here, ref_of(&obj, inc).desc, here.fn,
         fmt::format("{}{} of {} under {} vs {}{} in {} {} under {}; no common lock, no handoff",
                     now.marked ? "marked " : "", now.write ? "write" : "read", name, lockset_text(now.lockset),
                     prior.marked ? "marked " : "", prior.write ? "write" : "read", prior.fn, where(then),
                     lockset_text(prior.lockset)));
}

}  // namespace qedisim::checkers
