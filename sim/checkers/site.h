// Where and when an event happened, as a finding reports it: simulated
// time, the kernel context that ran and the kernel function it was in.
// Pure C++: checkers take a Site with every event so they can be driven by
// synthetic sequences without a SystemC kernel.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qedisim::checkers {

// A context or function name as checkers keep it: interned for the run, so
// copying a Site copies two pointers and equal names compare by address.
// The set of names is small (contexts, kernel functions, a few fixed words)
// and lives until the process ends. Ordered by text.
class Name {
 public:
  Name() = default;                                         // ""
  Name(std::string_view text);                              // NOLINT(google-explicit-constructor): a name is its text
  Name(const char* text) : Name(std::string_view(text)) {}  // NOLINT(google-explicit-constructor)
  Name(const std::string& text) : Name(std::string_view(text)) {}  // NOLINT(google-explicit-constructor)
  // The name of a string literal (static storage), found by its address
  // after the first time: what the kernel's function names are. The cache
  // hit inline (every checker event asks), the rest out of line.
  static Name of_literal(const char* text) {
    const Cached& c = cached(text);
    if (c.text == text && text) {
      Name name;
      name.s_ = c.s;
      return name;
    }
    return of_literal_slow(text);
  }

  const std::string& str() const { return *s_; }
  operator const std::string&() const { return *s_; }  // NOLINT(google-explicit-constructor)
  std::string_view view() const { return *s_; }
  const char* c_str() const { return s_->c_str(); }
  bool empty() const { return s_->empty(); }

  friend bool operator==(Name a, Name b) { return a.s_ == b.s_; }
  friend bool operator!=(Name a, Name b) { return a.s_ != b.s_; }
  friend bool operator<(Name a, Name b) { return a.s_ != b.s_ && *a.s_ < *b.s_; }
  friend std::string operator+(const std::string& a, Name b) { return a + *b.s_; }
  friend std::string operator+(const char* a, Name b) { return a + *b.s_; }
  friend std::string operator+(Name a, const char* b) { return *a.s_ + b; }

 private:
  // A direct-mapped cache in front of the map of literals (a few hundred).
  struct Cached {
    const char* text = nullptr;
    const std::string* s = nullptr;
  };
  static Cached literal_cache_[256];
  static Cached& cached(const char* text) {
    return literal_cache_[(reinterpret_cast<std::uintptr_t>(text) >> 3) & 255];
  }
  static Name of_literal_slow(const char* text);  // not in the cache
  static const std::string kEmpty;
  const std::string* s_ = &kEmpty;
};

struct NameHash {
  std::size_t operator()(Name n) const { return std::hash<const void*>()(n.c_str()); }
};

struct Site {
  std::int64_t ns = 0;
  Name ctx;  // "eh/host0", "qedi_thread/1", "fw", "checker"
  Name fn;   // kernel function, "-" when none
};

// A lock the current context holds: identity (for set intersection) and name
// (for messages).
struct HeldLock {
  const void* id = nullptr;
  std::string name;
  friend bool operator<(const HeldLock& a, const HeldLock& b) {
    return a.name != b.name ? a.name < b.name : a.id < b.id;
  }
  friend bool operator==(const HeldLock& a, const HeldLock& b) { return a.id == b.id; }
};

// The site of a field access, without building strings (data_race sees every
// tracked field access): the views stay valid for the call only; lock names
// are static strings.
struct LockRef {  // no initializers: LightSite's array is filled up to nlocks only
  const void* id;
  const char* name;  // static storage
};
class SiteSource;
struct LightSite {
  static constexpr std::size_t kMaxLocks = 6;  // deeper nesting: the innermost are dropped
  std::int64_t ns = 0;
  std::uint32_t ctx_id = 0;  // one per context, never reused
  std::string_view ctx;      // its name (valid for the call)
  const char* fn = "-";      // static storage: kernel function names are literals
  LockRef locks[kMaxLocks];
  std::size_t nlocks = 0;
  // The held locks as one key (kern::Context::chain_key): equal keys, equal
  // locks, in any context. 0: unknown, the checker reads `locks` every time.
  std::uint32_t lock_chain = 0;
  // Set: `locks` and `nlocks` are not filled yet; the checker that needs
  // them (a lock_chain it has not seen) asks this source (fill_locks) during
  // the same call. Null: they are filled.
  const SiteSource* lock_source = nullptr;
};

// Supplies the Site of the event being delivered. The default reads the
// simulated kernel (Kernel::get().current(), Kernel::now_ns()); tests inject
// their own clock and context.
class SiteSource {
 public:
  virtual ~SiteSource() = default;
  virtual Site site() const = 0;
  // Only the time of site(), without building its strings.
  virtual std::int64_t now_ns() const { return site().ns; }
  // Locks held by the current context (data_race lockset).
  virtual std::vector<HeldLock> held_locks() const = 0;
  // The current site and held locks at once, cheaply (the locks may be left
  // to fill_locks: LightSite::lock_source).
  virtual LightSite light_site() const = 0;
  // Fills the held locks of `s`, a light_site() of this source taken in the
  // call still running.
  virtual void fill_locks(LightSite& /*s*/) const {}
  // Only the context of light_site() (id and name), for the handoffs:
  // neither the time nor the locks are read.
  virtual LightSite context_site() const { return light_site(); }
};

// "(qedi_thread/0, 40.998s)"
std::string where(const Site& s);
// "qedi_ep_disconnect, iscsid, 95.120s"
std::string by(const Site& s);
// "31.060s"
std::string secs(std::int64_t ns);

}  // namespace qedisim::checkers

template <>
struct fmt::formatter<qedisim::checkers::Name> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(qedisim::checkers::Name n, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(n.view(), ctx);
  }
};
