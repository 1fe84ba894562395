// A component's "my state changed" (the HBA's, qedi's, the target's, the
// workload's, the `at:` actions'): the cue of the testbench's observers.
//
// Activity::note() asks the process's ActivityWatch, if there is one, for a
// call in the update phase of the current delta cycle: one call per cycle
// however many components noted activity, and no process activated for it.
// The end monitor is that watch. It used to be a method statically sensitive
// to the five activity events, woken in the next delta cycle about six times
// a steady command.
//
// The event is for observers that must run as processes (the model tracer,
// whose samples go into the waveform): note() notifies it (a delta
// notification) only once someone has asked for it with event(), so a run
// that traces nothing pays for no notification and no trigger.
#pragma once

#include <systemc>

namespace qedisim {

// Called back (changed()) in the update phase of every delta cycle in which
// some Activity was noted. A primitive channel: made at elaboration, at most
// one per process (the last one made is the one called).
class ActivityWatch : public sc_core::sc_prim_channel {
 public:
  ActivityWatch() : sc_prim_channel(sc_core::sc_gen_unique_name("activity_watch")) { current_ = this; }
  ~ActivityWatch() override {
    if (current_ == this) current_ = nullptr;
  }
  ActivityWatch(const ActivityWatch&) = delete;
  ActivityWatch& operator=(const ActivityWatch&) = delete;

  // From Activity::note(): SystemC keeps one request per channel and cycle.
  static void request() {
    if (current_) current_->request_update();
  }

 protected:
  // The update phase: every process of the cycle has run; no immediate
  // notification and no sc_stop here (a delta notification is fine).
  virtual void changed() = 0;

 private:
  void update() override { changed(); }
  static inline ActivityWatch* current_ = nullptr;
};

class Activity {
 public:
  void note() {
    if (watched_) event_.notify(sc_core::SC_ZERO_TIME);
    ActivityWatch::request();
  }
  // The event, notified at every note() from now on: a process sensitive to
  // it asks for it at elaboration, before anything is noted.
  const sc_core::sc_event& event() const {
    watched_ = true;
    return event_;
  }

 private:
  sc_core::sc_event event_;
  mutable bool watched_ = false;
};

}  // namespace qedisim
