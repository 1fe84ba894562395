// sc_spawn (the dispatcher is spawned, not declared in a module).
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "common/timeline.h"

namespace qedisim {

// ---- TimedEvent -------------------------------------------------------------

TimedEvent::~TimedEvent() {
  if (index_ != kNone) Timeline::get().remove(*this);
}

bool TimedEvent::delta_pending() const { return delta_stamp_ == sc_core::sc_delta_count(); }

void TimedEvent::notify_in(std::int64_t delay_ns) {
  if (delay_ns <= 0) {
    if (index_ != kNone) Timeline::get().remove(*this);
    event_.notify(sc_core::SC_ZERO_TIME);
    delta_stamp_ = sc_core::sc_delta_count();
    return;
  }
  if (delta_pending()) return;  // a delta notification is earlier than any timed one
  const std::int64_t at = sim_now_ns() + delay_ns;
  if (index_ != kNone) {
    if (at_ <= at) return;  // the pending one is earlier (or the same)
    Timeline::get().remove(*this);
  }
  Timeline::get().schedule(*this, at);
}

void TimedEvent::cancel() {
  if (index_ != kNone) Timeline::get().remove(*this);
  if (delta_pending()) {
    event_.cancel();
    delta_stamp_ = ~std::uint64_t{0};
  }
}

// ---- Timeline ----------------------------------------------------------------

Timeline& Timeline::get() {
  static Timeline* const instance = new Timeline();  // lives as long as the SystemC kernel
  return *instance;
}

Timeline::Timeline() {
  sc_core::sc_spawn_options opts;
  opts.spawn_method();
  for (Wake& w : wakes_) opts.set_sensitivity(&w.event);
  opts.dont_initialize();
  sc_core::sc_spawn([this] { dispatch(); }, "qedisim_timeline", &opts);
}

void Timeline::sift_up(Heap& h, std::size_t i) {
  TimedEvent* e = h[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!before(e, h[parent])) break;
    place(h, i, h[parent]);
    i = parent;
  }
  place(h, i, e);
}

void Timeline::sift_down(Heap& h, std::size_t i) {
  TimedEvent* e = h[i];
  const std::size_t n = h.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(h[child + 1], h[child])) ++child;
    if (!before(h[child], e)) break;
    place(h, i, h[child]);
    i = child;
  }
  place(h, i, e);
}

void Timeline::schedule(TimedEvent& e, std::int64_t at_ns) {
  e.at_ = at_ns;
  e.seq_ = seq_++;
  Heap& h = heap_of(e);
  h.push_back(&e);
  e.index_ = h.size() - 1;
  sift_up(h, e.index_);
  arm_for(at_ns, sim_now_ns());
}

// Makes sure a wake-up comes at `at_ns` or before it (and after now).
void Timeline::arm_for(std::int64_t at_ns, std::int64_t now_ns) {
  Wake* free = nullptr;
  Wake* latest = nullptr;
  for (Wake& w : wakes_) {
    if (w.at < 0) {
      if (!free) free = &w;
      continue;
    }
    if (w.at <= at_ns) return;  // that one comes first and re-arms
    if (!latest || w.at > latest->at) latest = &w;
  }
  Wake* w = free;
  if (!w) {  // every slot armed later: move the latest (rare)
    w = latest;
    w->event.cancel();
  }
  w->event.notify(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(at_ns - now_ns)));
  w->at = at_ns;
}

void Timeline::remove(TimedEvent& e) {
  Heap& h = heap_of(e);
  const std::size_t i = e.index_;
  e.index_ = TimedEvent::kNone;
  TimedEvent* last = h.back();
  h.pop_back();
  if (last == &e) return;
  place(h, i, last);
  sift_up(h, i);
  sift_down(h, last->index_);
  // The armed wake-up stays: when it comes early it re-arms for what is left.
}

TimedEvent* Timeline::earliest() const {
  const Heap& m = heaps_[0];
  const Heap& o = heaps_[1];
  if (m.empty()) return o.empty() ? nullptr : o.front();
  if (o.empty()) return m.front();
  return before(m.front(), o.front()) ? m.front() : o.front();
}

std::optional<std::int64_t> Timeline::next_model_ns() const {
  if (heaps_[0].empty()) return std::nullopt;
  return heaps_[0].front()->at_;
}

// The only process woken by SystemC's timed queue: fires every wake-up due
// now, by time then scheduling order, as immediate notifications (the woken
// processes run in this evaluation phase, in that order).
void Timeline::dispatch() {
  const std::int64_t now = sim_now_ns();
  for (Wake& w : wakes_)
    if (w.at >= 0 && w.at <= now) w.at = -1;  // came now
  while (TimedEvent* e = earliest()) {
    if (e->at_ > now) {
      arm_for(e->at_, now);
      break;
    }
    remove(*e);
    e->event_.notify();
  }
}

void timeline_wait(std::int64_t delay_ns) {
  if (delay_ns <= 0) {
    sc_core::wait(sc_core::SC_ZERO_TIME);
    return;
  }
  TimedEvent t;
  t.notify_in(delay_ns);
  sc_core::wait(t.event());
}

void timeline_wait(sc_core::sc_event& ev, std::int64_t timeout_ns) {
  TimedEvent t;
  t.notify_in(timeout_ns);
  sc_core::wait(t.event() | ev);
}

}  // namespace qedisim
