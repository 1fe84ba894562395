// The simulated kernel's shared state: the current context, the hooks that
// connect the driver model to failpoints, tracing and the checkers, and the
// seeded PRNG behind sched.jitter. One Kernel per simulation.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/event_sink.h"
#include "common/timeline.h"
#include "host_driver_model/kernel/observer.h"

namespace qedisim {
class FailpointHook;
}  // namespace qedisim

namespace qedisim::kern {

class Context;

class Kernel {
 public:
  Kernel(FailpointHook* failpoints, Observer* observer, std::uint64_t seed, Duration jitter);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  FailpointHook* failpoints() const { return failpoints_; }
  Observer& observer() const { return *observer_; }

  // Time now in ns, as every record wants it.
  static std::int64_t now_ns() { return sim_now_ns(); }

  // The context whose code is running. Set on every resume by the kernel
  // primitives; never null while model code runs.
  Context& current() const { return *current_; }
  void set_current(Context* c) { current_ = c; }

  // A context enters / leaves one logical wait: recorded on the context (for
  // traces) and told to the observer (hung_task). `idle`: waiting for work.
  void wait_begin(Context& ctx, std::string_view what, bool idle);
  void wait_end(Context& ctx, bool timed_out);

  // Random delay in [0, jitter] for a scheduling point; 0 when jitter is off.
  std::int64_t jitter_ns();
  // Restarts the jitter's generator from `seed`, as construction with it
  // would have (the stalls' generator restarts with set_stalls).
  void reseed(std::uint64_t seed) { rng_.seed(seed); }

  // Windows anywhere (sched.stall*): at a plain field access, before a lock
  // is taken and after a wake_up, the running context may be held for up to
  // `max`, chosen by the run's seed: each point with probability
  // rate_ppm / 1e6, or (points > 0) exactly `points` stalls at points drawn
  // from the first `horizon`. Never in an atomic context (IRQ, timer), under
  // a spinlock or while an exception unwinds: a preempted context holds no
  // spinlock. Draws come from their own generator, so the jitter of a run
  // is the same with or without stalls.
  struct Stalls {
    Duration max{};
    std::uint64_t rate_ppm = 0;
    std::uint64_t points = 0;
    std::uint64_t horizon = 1;
  };
  void set_stalls(const Stalls& s, std::uint64_t seed);
  void maybe_stall() {
    if (stalls_armed()) stall_point();
  }
  bool stalls_armed() const { return stalls_.max.ns > 0; }
  std::uint64_t stalls_taken() const { return stalls_taken_; }

  // The one instance of this process (inline: every tracked access asks,
  // ~350 calls a simulated command). Unchecked: the testbench and every
  // test build the Kernel before any kernel-layer call, and a sanitizer
  // build reports a call without one (UBSan: a reference bound to null).
  static Kernel& get() { return *instance_; }
  // The running context, or null when no Kernel exists (a unit test's objects).
  static const Context* current_context() noexcept { return instance_ ? instance_->current_ : nullptr; }

  // Happens-before for data_race: the current context's past is ordered
  // before whatever later receives on `channel` (lock release -> acquire,
  // wake_up -> woken wait, queue_work -> work start, ...). No-ops outside a
  // simulation.
  static void hb_send(const void* channel);
  static void hb_retire(const void* channel);
  static void hb_recv(const void* channel);

  // Where log lines and timeline records go (--log, --trace); null: nowhere.
  static inline EventSink* events = nullptr;

 private:
  static inline Kernel* instance_ = nullptr;
  FailpointHook* failpoints_;
  Observer* observer_;
  Context* current_ = nullptr;
  std::mt19937_64 rng_;
  Duration jitter_;
  void stall_point();
  Stalls stalls_;
  std::mt19937_64 stall_rng_;
  std::vector<std::uint64_t> stall_at_;  // PCT: the chosen points, sorted
  std::size_t next_stall_ = 0;
  std::uint64_t stall_points_seen_ = 0;
  std::uint64_t stalls_taken_ = 0;
};

}  // namespace qedisim::kern
