// data_race (docs/invariants.md), a warning: what KCSAN reports, decided the
// way a happens-before race detector does. Every tracked field access of the
// model arrives here (kern::KPtr::use). Per field instance (object, field) it
// keeps the last write and each context's last read since, with the
// context's vector-clock epoch and the locks it held. Clocks join at the
// handoffs the kernel layer reports (lock release -> next acquire, wake_up ->
// the woken wait's return, queue_work -> work start, work end -> flush
// return, mod_timer -> callback, kthread start, doorbell -> CQE handler).
// Fires when two accesses of different contexts conflict (at least one a
// plain write; two marked accesses never race), share no lock and neither is
// ordered before the other; once per field and pair of functions. Nothing is
// formatted unless it fires: contexts, fields and functions are interned.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/address_index.h"
#include "common/stable_array.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/site.h"

namespace qedisim::kern {
struct ObjectHeader;
}

namespace qedisim::checkers {

class DataRaceChecker : public Checker {
 public:
  // Room for a bug scenario's field names and channels from the start: an
  // explore child would otherwise grow them from nothing. The shadow cells
  // need no room: they never move (fields_).
  explicit DataRaceChecker(Findings& out) : Checker(InvariantId::data_race, out) {
    field_names_.reserve(256);
    channels_.reserve(128);
  }
  // What an access needs of its site on the fast path, in registers: the
  // rest (the context's name, the held locks) is asked of `source`
  // (light_site()) in the same call, when a context or a lock chain is seen
  // for the first time or a race is reported.
  struct AccessSite {
    std::int64_t ns;
    std::uint32_t ctx_id;
    std::uint32_t lock_chain;  // LightSite::lock_chain (0: unknown, the locks are asked for every time)
    const char* fn;
    const SiteSource& source;
  };
  // One access of the current context to field `field` (kern::FieldName: a
  // hash of its name and the name, a string literal) of `obj` in incarnation
  // `inc`. Throws std::logic_error if two names share an id.
  void access(const AccessSite& at, const kern::ObjectHeader& obj, std::uint32_t inc, std::uint32_t field,
              const char* field_name, bool write, bool marked);
  // The same access when the tables alone decide it, without a call: the
  // context, the field and the lock chain seen before, and every prior
  // access it conflicts with this context's own or ordered before it (no
  // race possible, so no lock to compare and nothing to report). Returns
  // false, having changed nothing, when access() must run instead.
  bool try_access(std::uint32_t ctx_id, std::uint32_t lock_chain, std::int64_t ns, const char* fn, const void* obj,
                  std::uint32_t inc, std::uint32_t field, bool write, bool marked);
  // Happens-before: the sender's past is ordered before the receiver's future.
  // The current context is `ctx_id` (LightSite::ctx_id); its name is asked
  // of `source` the first time it is seen. Every lock, wake-up and queued
  // work is a handoff (~19 a steady command). recv is forced inline in
  // CheckerSet::handoff_recv (most end at the covered test). send is an
  // inline function the compiler keeps out of line, built with
  // checker_set.cpp's -O2: forced inline, the run took 0.8 % more
  // instructions; in data_race.cpp (-O3), 0.2 % more.
  void send(std::uint32_t ctx_id, const SiteSource& source, const void* channel);
  void recv(std::uint32_t ctx_id, const SiteSource& source, const void* channel);
  // The object at `channel` ended: the next one at its address starts with
  // an empty clock (kept allocated: addresses come back every command).
  void retire(const void* channel) {
    if (Channel* c = find_channel(channel)) {
      c->clock.clear();
      c->covered = ~0ull;
      c->sender = 0;
    }
  }

  std::size_t accesses() const { return accesses_; }

 private:
  using Clock = std::vector<std::uint32_t>;
  struct Rec {
    std::uint16_t ctx = 0;
    bool write = false;
    bool marked = false;
    std::uint32_t lockset = 0;  // index into locksets_ (0: no lock)
    std::uint32_t epoch = 0;
    std::int64_t ns = 0;
    const char* fn = "-";
  };
  // The locks a context held at an access, innermost last, interned.
  struct Lockset {
    std::vector<const void*> ids;
    std::vector<const char*> names;
  };
  struct Field {
    std::uint32_t inc = 0;
    bool has_write = false;
    Rec last_write;
    boost::container::small_vector<Rec, 1> reads;  // one per context, since the last write; mostly one
  };
  Field& shadow(const void* obj, std::uint32_t field, const char* field_name) {
    return shadow_index_.find(
        obj, field, [this](std::uint32_t i) -> Field& { return fields_[i]; },
        [&]() -> Field& { return shadow_insert(obj, field, field_name); });
  }
  Field& shadow_insert(const void* obj, std::uint32_t field, const char* field_name);  // not in the table yet

  // Fast paths inline (every access asks), first sights out of line.
  std::uint16_t ctx_index(std::uint32_t ctx_id, const SiteSource& source) {
    if (ctx_id == last_ctx_id_ && last_ctx_ != 0) return static_cast<std::uint16_t>(last_ctx_ - 1);
    return ctx_index_slow(ctx_id, source);
  }
  // A context not the last one: known by its id, or seen for the first time
  // (its name then asked of `source`).
  std::uint16_t ctx_index_slow(std::uint32_t ctx_id, const SiteSource& source);
  // A handoff channel: the clock its senders left, and what lets send and
  // recv skip a join that would change nothing.
  struct Channel {
    Clock clock;
    // Contexts (index < 64) whose clock is known to be at least `clock`
    // entry by entry: a recv of theirs would change nothing. Clocks only
    // grow, so a bit stays true until the channel's clock changes.
    std::uint64_t covered = ~0ull;  // an empty clock: everyone
    std::uint16_t sender = 0;       // index + 1 of the context whose clock `clock` equals since its send (0: none)
    std::uint64_t sender_gen = 0;   // that context's gen_ then (64-bit: never wraps, so equal means unchanged)
  };
  Channel* find_channel(const void* key) {
    return channel_index_.find(
        key, 0, [this](std::uint32_t i) { return &channels_[i]; }, []() -> Channel* { return nullptr; });
  }
  Channel& channel(const void* key) {
    Channel* c = find_channel(key);
    return c ? *c : channel_insert(key);
  }
  Channel& channel_insert(const void* key);  // not in the table yet
  // The lockset of the locks held at `at`: known by its lock chain after
  // the chain's first sight.
  std::uint32_t lockset(const AccessSite& at) {
    if (at.lock_chain < lockset_of_chain_.size()) {
      const std::uint32_t known = lockset_of_chain_[at.lock_chain];
      if (known != 0) return known - 1;
    }
    return lockset_slow(at.lock_chain, at.source);
  }
  std::uint32_t lockset_slow(std::uint32_t lock_chain, const SiteSource& source);
  bool share_lock(std::uint32_t a, std::uint32_t b) const;
  std::string lockset_text(std::uint32_t ls) const;
  // A context's clock: created with an entry for itself, only ever grown.
  Clock& clock(std::uint16_t ctx) { return clocks_[ctx]; }
  // into = max(into, from), entry by entry.
  static void join(Clock& into, const Clock& from);
  // The context's bit in Channel::covered (none past 64 contexts).
  static std::uint64_t bit_of(std::uint16_t ctx) { return ctx < 64 ? 1ull << ctx : 0; }
  // `earlier` happened before everything a context with clock `now_clock` does from now on.
  static bool ordered(const Rec& earlier, const Clock& now_clock) {
    return earlier.ctx < now_clock.size() && earlier.epoch <= now_clock[earlier.ctx];
  }
  // A write by the context that wrote the field last, in the same epoch,
  // marked alike, under the same locks, with no read since: it changes
  // nothing, and the first write's record is kept.
  static bool rewrites_own_write(const Field& f, const Rec& now) {
    return now.write && f.has_write && f.reads.empty() && f.last_write.ctx == now.ctx &&
           f.last_write.epoch == now.epoch && f.last_write.marked == now.marked && f.last_write.lockset == now.lockset;
  }
  // The cheap half of check(), inline: another context, a plain write on
  // one side, not both marked.
  static bool may_race(const Rec& now, const Rec& prior) {
    return prior.ctx != now.ctx && (now.write || prior.write) && !(now.marked && prior.marked);
  }
  // The rest: a common lock, an order, then the report.
  // `now` is the access at hand (its time and function); `source` gives
  // the rest of its site for the report.
  void check(const SiteSource& source, const kern::ObjectHeader& obj, std::uint32_t inc, std::uint32_t field,
             const Rec& now, const Rec& prior);

  std::vector<std::uint16_t> ctx_of_id_;  // context id -> index + 1 (0: not seen)
  std::uint32_t last_ctx_id_ = 0;         // the last context looked up, and its ctx_of_id_ entry
  std::uint16_t last_ctx_ = 0;
  std::vector<std::string> ctx_names_;
  std::unordered_map<std::uint32_t, const char*> field_names_;  // by field id, as first seen
  std::vector<Clock> clocks_;
  // By context index: its own entry of its clock (clocks_[i][i], which only
  // its sends move), read at every access without going through the clock.
  std::vector<std::uint32_t> epoch_;
  std::vector<Lockset> locksets_ = std::vector<Lockset>(1);
  // Open addressing over locksets_ by the held ids (0: empty slot).
  std::vector<std::uint32_t> lockset_slots_ = std::vector<std::uint32_t>(64, 0);
  // By lock chain (LightSite::lock_chain): its lockset + 1 (0: not seen;
  // entry 0, the unknown chain, stays 0).
  std::vector<std::uint32_t> lockset_of_chain_;
  // try_access's last answer from the two tables above, both non-zero (an
  // entry never changes once set): (context id, lock chain) -> (ctx_of_id_,
  // lockset_of_chain_).
  std::uint32_t hot_ctx_id_ = ~0u, hot_chain_ = ~0u, hot_ctx1_ = 0, hot_ls1_ = 0;
  // By context index: bumped whenever a recv changes its clock. Between two
  // sends of a context with the same gen, only its own entry moved.
  std::vector<std::uint64_t> gen_;
  AddressIndex channel_index_{1u << 8};  // channel address -> channels_
  std::vector<Channel> channels_;
  // (object, field) -> fields_. 1,024 slots hold a bug scenario's few
  // hundred fields under half full (p11: 339). Each of the table's 4 KiB
  // pages is a copy-on-write fault in every explore child, which touches
  // them all: 2,048 slots cost a p11 child 4 faults more.
  AddressIndex shadow_index_{1u << 10};
  // The shadow cells, by shadow_index_'s value. A bug scenario has a few
  // hundred, some swarm draws over 8,192. As a std::vector (1,024
  // reserved), a run that reached 2,048 or 4,096 cells wrote 292 or 685
  // KiB of blocks for 196 or 393 KiB of cells, each block's pages one
  // fault at a time. Here: 4 M cells (384 MiB) of address space, a page
  // made when a cell first reaches it.
  StableArray<Field> fields_{std::size_t{1} << 22};
  std::set<std::string> reported_;  // "type.field|fn|fn", the functions sorted by name
  // The same pairs by pointer (type, field id, the functions by address):
  // each one's key is in reported_.
  std::set<std::tuple<const void*, std::uint32_t, const void*, const void*>> reported_ptrs_;
  std::size_t accesses_ = 0;
};

// Inline: every tracked field access of the model comes here through
// CheckerSet::field_access, which builds `at` in registers.
[[gnu::always_inline]] inline void DataRaceChecker::access(const AccessSite& at, const kern::ObjectHeader& obj,
                                                           std::uint32_t inc, std::uint32_t fid, const char* field_name,
                                                           bool write, bool marked) {
  ++accesses_;
  const std::uint16_t me = ctx_index(at.ctx_id, at.source);
  Field& f = shadow(&obj, fid, field_name);
  if (f.inc != inc) {  // a new incarnation of the slot: its fields start over
    f.inc = inc;
    f.has_write = false;
    f.reads.clear();
  }
  const Rec now{me, write, marked, lockset(at), epoch_[me], at.ns, at.fn};
  if (rewrites_own_write(f, now)) return;
  if (f.has_write && may_race(now, f.last_write)) check(at.source, obj, inc, fid, now, f.last_write);
  if (write) {
    for (const Rec& r : f.reads)
      if (may_race(now, r)) check(at.source, obj, inc, fid, now, r);
    f.reads.clear();
    f.last_write = now;
    f.has_write = true;
  } else {
    for (Rec& r : f.reads)
      if (r.ctx == me) {
        r = now;
        return;
      }
    f.reads.push_back(now);
  }
}

[[gnu::always_inline]] inline bool DataRaceChecker::try_access(std::uint32_t ctx_id, std::uint32_t lock_chain,
                                                               std::int64_t ns, const char* fn, const void* obj,
                                                               std::uint32_t inc, std::uint32_t fid, bool write,
                                                               bool marked) {
  std::uint32_t ctx1, ls1;
  if (ctx_id == hot_ctx_id_ && lock_chain == hot_chain_) {  // mostly: the same context and locks as the last access
    ctx1 = hot_ctx1_;
    ls1 = hot_ls1_;
  } else {
    if (ctx_id >= ctx_of_id_.size() || lock_chain >= lockset_of_chain_.size()) return false;
    ctx1 = ctx_of_id_[ctx_id];
    ls1 = lockset_of_chain_[lock_chain];
    if (ctx1 == 0 || ls1 == 0) return false;
    hot_ctx_id_ = ctx_id;
    hot_chain_ = lock_chain;
    hot_ctx1_ = ctx1;
    hot_ls1_ = ls1;
  }
  Field* fp = shadow_index_.find(
      obj, fid, [this](std::uint32_t i) { return &fields_[i]; }, []() -> Field* { return nullptr; });
  if (!fp) return false;
  Field& f = *fp;
  const auto me = static_cast<std::uint16_t>(ctx1 - 1);
  const std::uint32_t ls = ls1 - 1, epoch = epoch_[me];
  const Rec now{me, write, marked, ls, epoch, ns, fn};
  if (f.inc != inc) {                           // a new incarnation of the slot: nothing before it to check against
    if (f.reads.capacity() == 0) return false;  // never: the small vector holds one in place
    f.inc = inc;
    f.reads.clear();
    f.has_write = write;
    if (write)
      f.last_write = now;
    else
      f.reads.push_back(now);
    ++accesses_;
    return true;
  }
  if (rewrites_own_write(f, now)) {
    ++accesses_;
    return true;
  }
  // check() would return at its first test: not a race, nothing reported.
  const Clock& mine = clocks_[me];
  const auto quiet = [&](const Rec& prior) { return !may_race(now, prior) || ordered(prior, mine); };
  if (f.has_write && !quiet(f.last_write)) return false;
  if (write) {
    for (const Rec& r : f.reads)
      if (!quiet(r)) return false;
    f.reads.clear();
    f.last_write = now;
    f.has_write = true;
  } else {
    Rec* own = nullptr;
    for (Rec& r : f.reads)
      if (r.ctx == me) {
        own = &r;
        break;
      }
    if (own)
      *own = now;
    else if (f.reads.size() < f.reads.capacity())
      f.reads.push_back(now);
    else
      return false;  // a new read record that needs room: access() grows the vector
  }
  ++accesses_;
  return true;
}

inline void DataRaceChecker::send(std::uint32_t ctx_id, const SiteSource& source, const void* key) {
  const std::uint16_t me = ctx_index(ctx_id, source);
  Channel& c = channel(key);
  Clock& mine = clock(me);
  if (c.sender == me + 1 && c.sender_gen == gen_[me]) {
    // The channel holds this context's clock as of its last send here, and
    // that clock has moved since only at its own entry (its sends).
    c.clock[me] = mine[me];
  } else if (c.covered & bit_of(me)) {
    c.clock = mine;  // the join of a clock this one covers
  } else {
    join(c.clock, mine);
  }
  if (c.covered & bit_of(me)) {  // the channel now equals this context's clock
    c.sender = static_cast<std::uint16_t>(me + 1);
    c.sender_gen = gen_[me];
    c.covered = bit_of(me);
  } else {  // it holds more than this context's clock: nobody is known to cover it
    c.sender = 0;
    c.covered = 0;
  }
  epoch_[me] = ++mine[me];
}

[[gnu::always_inline]] inline void DataRaceChecker::recv(std::uint32_t ctx_id, const SiteSource& source,
                                                         const void* key) {
  const std::uint16_t me = ctx_index(ctx_id, source);
  Channel* c = find_channel(key);
  if (!c || (c->covered & bit_of(me))) return;  // would change nothing
  join(clock(me), c->clock);
  ++gen_[me];
  c->covered |= bit_of(me);
}

}  // namespace qedisim::checkers
