// The one queue of timed wake-ups (the only SystemC in the ground floor).
//
// SystemC keeps timed notifications in a binary heap ordered by time alone:
// notifications due at the same instant come out in an order that depends on
// everything else the heap held, so one more timed notification anywhere (a
// waveform sampler's poll, an observer skipping a poll) could reorder two
// model events due at the same nanosecond and change a race. Every timed
// wake-up of the simulation (kernel sleeps and timeouts, the timer wheel, the
// HBA's engine, the target, the workload, the actions, the observers' polls)
// goes through this queue instead: it orders them by time, then by when they
// were scheduled, and keeps at most four notifications of its own in
// SystemC's heap (all at different times).
// Equal-time wake-ups fire in the order they were scheduled, whatever else is
// pending. Times are in ns: the model runs at SystemC's 1 ns resolution.
//
// Observers (the end monitor, the waveform sampler) schedule as
// TimedEvent::Kind::observer: they share the order but are left out of
// next_model_ns(), so that what an observer does with its own wake-ups can
// never change when the model's next wake-up is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <systemc>
#include <vector>

namespace qedisim {

// Simulated time now in ns. The model runs at SystemC's 1 ns resolution
// (the application and every test bench set it before building), where this
// is the time stamp's value. Inline: sc_time_stamp() is a library call, and
// the model reads the time several times a command.
inline std::int64_t sim_now_ns() {
  return static_cast<std::int64_t>(sc_core::sc_get_curr_simcontext()->time_stamp().value());
}
// The same, for a hot path that runs only inside the simulation, where the
// context exists: no test for its creation, so no call on the path (a
// function without one keeps its values in scratch registers).
inline std::int64_t sim_now_ns_running() {
  return static_cast<std::int64_t>(sc_core::sc_curr_simcontext->time_stamp().value());
}

class Timeline;

// An sc_event whose timed notifications go through the Timeline. Like
// sc_event::notify(t): of a pending and a new notification the earlier one
// stays, and a delay of zero or less is a delta notification (which beats any
// timed one).
class TimedEvent {
 public:
  enum class Kind : std::uint8_t { model, observer };
  explicit TimedEvent(Kind kind = Kind::model) : kind_(kind) {}
  ~TimedEvent();
  TimedEvent(const TimedEvent&) = delete;
  TimedEvent& operator=(const TimedEvent&) = delete;

  const sc_core::sc_event& event() const { return event_; }
  sc_core::sc_event& event() { return event_; }

  void notify_in(std::int64_t delay_ns);
  // Drops a pending notification (timed or delta).
  void cancel();
  // The time of the pending timed notification.
  std::optional<std::int64_t> pending_at() const {
    if (index_ == kNone) return std::nullopt;
    return at_;
  }

 private:
  friend class Timeline;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  bool delta_pending() const;

  sc_core::sc_event event_;
  std::int64_t at_ = 0;
  std::uint64_t seq_ = 0;
  std::size_t index_ = kNone;                      // in the Timeline's heap of its kind
  std::uint64_t delta_stamp_ = ~std::uint64_t{0};  // sc_delta_count() of a pending delta notification
  const Kind kind_;
};

class Timeline {
 public:
  // The process's timeline, built on first use (one elaboration per process).
  static Timeline& get();

  // When the model's next timed wake-up is due (observers' left out).
  std::optional<std::int64_t> next_model_ns() const;

 private:
  friend class TimedEvent;
  Timeline();
  void schedule(TimedEvent& e, std::int64_t at_ns);
  void remove(TimedEvent& e);
  void dispatch();
  void arm_for(std::int64_t at_ns, std::int64_t now_ns);

  using Heap = std::vector<TimedEvent*>;
  Heap& heap_of(const TimedEvent& e) { return heaps_[static_cast<unsigned>(e.kind_)]; }
  static bool before(const TimedEvent* a, const TimedEvent* b) {
    return a->at_ != b->at_ ? a->at_ < b->at_ : a->seq_ < b->seq_;
  }
  static void sift_up(Heap& h, std::size_t i);
  static void sift_down(Heap& h, std::size_t i);
  static void place(Heap& h, std::size_t i, TimedEvent* e) {
    h[i] = e;
    e->index_ = i;
  }
  TimedEvent* earliest() const;

  Heap heaps_[2];
  std::uint64_t seq_ = 0;
  // The dispatcher's wake-ups in SystemC's timed queue. A wake-up is never
  // moved: a cancelled notification stays in SystemC's heap until its time
  // (a command timer's is 30 s away), so an earlier entry takes a free slot
  // and the later wake-up, come its time, finds nothing due or re-arms.
  struct Wake {
    sc_core::sc_event event;
    std::int64_t at = -1;  // pending notification's time, -1 free
  };
  static constexpr std::size_t kWakes = 4;
  Wake wakes_[kWakes];
};

// In a thread: wait `delay_ns` in the timeline's order (0: one delta cycle).
void timeline_wait(std::int64_t delay_ns);
// In a thread: wait for `ev` or `timeout_ns`, whichever comes first.
void timeline_wait(sc_core::sc_event& ev, std::int64_t timeout_ns);

}  // namespace qedisim
