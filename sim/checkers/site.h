// Where and when an event happened, as a finding reports it: simulated
// time, the kernel context that ran and the kernel function it was in.
// Pure C++: checkers take a Site with every event so they can be driven by
// synthetic sequences without a SystemC kernel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qedisim::checkers {

struct Site {
  std::int64_t ns = 0;
  std::string ctx;  // "eh/host0", "qedi_thread/1", "fw", "checker"
  std::string fn;   // kernel function, "-" when none
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
struct LightSite {
  static constexpr std::size_t kMaxLocks = 6;  // deeper nesting: the innermost are dropped
  std::int64_t ns = 0;
  std::uint32_t ctx_id = 0;  // one per context, never reused
  std::string_view ctx;      // its name (valid for the call)
  const char* fn = "-";      // static storage: kernel function names are literals
  LockRef locks[kMaxLocks];
  std::size_t nlocks = 0;
  // Changes whenever the context's locks do (kern::Context::lock_gen); 0:
  // unknown, the checker reads `locks` every time.
  std::uint64_t lock_gen = 0;
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
  // The current site and held locks at once, cheaply.
  virtual LightSite light_site() const = 0;
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
