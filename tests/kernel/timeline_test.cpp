// The timeline (common/timeline.h): the one queue of timed wake-ups. One
// SystemC elaboration per process: CTest runs each case alone.
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "common/activity.h"
#include "common/timeline.h"

using namespace qedisim;

namespace {

std::int64_t now() { return static_cast<std::int64_t>(sc_core::sc_time_stamp().value()); }

// Records "<name>@<time>" each time one of its events fires.
struct Log {
  std::vector<std::string> lines;
  void watch(const sc_core::sc_event& ev, const std::string& name) {
    sc_core::sc_spawn_options o;
    o.spawn_method();
    o.set_sensitivity(&ev);
    o.dont_initialize();
    sc_core::sc_spawn([this, name] { lines.push_back(name + "@" + std::to_string(now())); }, nullptr, &o);
  }
};

using Lines = std::vector<std::string>;

}  // namespace

// Equal-time wake-ups fire in the order they were scheduled, whatever else
// sits in the queue: entries at other times, a cancelled one at the same
// time, an observer's.
BOOST_AUTO_TEST_CASE(equal_time_wake_ups_fire_in_scheduling_order) {
  Log log;
  TimedEvent c, a, b, far, gone;
  TimedEvent obs(TimedEvent::Kind::observer);
  log.watch(a.event(), "a");
  log.watch(b.event(), "b");
  log.watch(c.event(), "c");
  log.watch(far.event(), "far");
  log.watch(gone.event(), "gone");
  log.watch(obs.event(), "obs");
  sc_core::sc_spawn([&] {
    far.notify_in(500);
    c.notify_in(100);
    gone.notify_in(100);
    obs.notify_in(100);
    sc_core::wait(10, sc_core::SC_NS);
    a.notify_in(90);  // due at 100 too, scheduled later
    gone.cancel();
    b.notify_in(90);
  });
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
  BOOST_TEST(log.lines == (Lines{"c@100", "obs@100", "a@100", "b@100", "far@500"}), boost::test_tools::per_element());
}

// Like sc_event::notify(t): the earlier of two pending notifications stays,
// a delay of zero or less is a delta notification that beats a timed one, and cancel
// drops what is pending.
BOOST_AUTO_TEST_CASE(notify_in_keeps_the_earlier_and_a_delta_beats_a_timed_one) {
  Log log;
  TimedEvent e1, e2, e3, e4, e5;
  log.watch(e1.event(), "e1");
  log.watch(e2.event(), "e2");
  log.watch(e3.event(), "e3");
  log.watch(e4.event(), "e4");
  log.watch(e5.event(), "e5");
  sc_core::sc_spawn([&] {
    e1.notify_in(100);
    e1.notify_in(50);  // earlier: replaces
    e2.notify_in(50);
    e2.notify_in(100);  // later: ignored
    e3.notify_in(100);
    e3.notify_in(0);   // a delta: replaces the timed one
    e3.notify_in(20);  // ignored while the delta is pending
    e4.notify_in(30);
    e4.cancel();
    BOOST_TEST(!e4.pending_at().has_value());
    BOOST_TEST(e1.pending_at().value() == 50);
    sc_core::wait(200, sc_core::SC_NS);
    e5.notify_in(-7);  // already past due: a delta notification too
  });
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
  BOOST_TEST(log.lines == (Lines{"e3@0", "e1@50", "e2@50", "e5@200"}), boost::test_tools::per_element());
}

// The model's next wake-up leaves the observers' out.
BOOST_AUTO_TEST_CASE(observers_are_left_out_of_the_next_model_wake_up) {
  TimedEvent model;
  TimedEvent obs(TimedEvent::Kind::observer);
  std::vector<std::int64_t> next;
  sc_core::sc_spawn([&] {
    BOOST_TEST(!Timeline::get().next_model_ns().has_value());
    obs.notify_in(100);
    BOOST_TEST(!Timeline::get().next_model_ns().has_value());
    model.notify_in(300);
    BOOST_TEST(Timeline::get().next_model_ns().value() == 300);
    model.cancel();
    BOOST_TEST(!Timeline::get().next_model_ns().has_value());
  });
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
}

// More wake-ups, each earlier than the last, than the dispatcher keeps
// notifications in SystemC's queue: every one still fires once, at its time.
BOOST_AUTO_TEST_CASE(wake_ups_scheduled_ever_earlier_each_fire_once_at_their_time) {
  Log log;
  std::vector<std::unique_ptr<TimedEvent>> evs;
  for (int i = 0; i < 8; ++i) {
    evs.push_back(std::make_unique<TimedEvent>());
    log.watch(evs.back()->event(), "e" + std::to_string(i));
  }
  sc_core::sc_spawn([&] {
    for (int i = 0; i < 8; ++i) evs[i]->notify_in(800 - 100 * i);
  });
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
  BOOST_TEST(log.lines == (Lines{"e7@100", "e6@200", "e5@300", "e4@400", "e3@500", "e2@600", "e1@700", "e0@800"}),
             boost::test_tools::per_element());
}

// A thread's sleep and its wait with a timeout go through the timeline.
BOOST_AUTO_TEST_CASE(timeline_waits_end_at_the_timeout_or_the_event) {
  sc_core::sc_event ev;
  std::vector<std::int64_t> woke;
  sc_core::sc_spawn([&] {
    timeline_wait(40);
    woke.push_back(now());
    timeline_wait(ev, 100);  // times out at 140
    woke.push_back(now());
    timeline_wait(ev, 100);  // the event at 150
    woke.push_back(now());
    timeline_wait(0);  // one delta cycle
    woke.push_back(now());
  });
  sc_core::sc_spawn([&] {
    sc_core::wait(150, sc_core::SC_NS);
    ev.notify();
  });
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
  BOOST_TEST(woke == (std::vector<std::int64_t>{40, 140, 150, 150}), boost::test_tools::per_element());
}

// Activity (common/activity.h): the watch is called once per delta cycle
// in which something was noted, after every process of that cycle ran; an
// event someone asked for wakes its process in the next cycle, as an
// sc_event notified with SC_ZERO_TIME does.
BOOST_AUTO_TEST_CASE(activity_watch_runs_once_per_cycle_after_its_processes) {
  struct Recorder : ActivityWatch {
    int* done;
    std::vector<std::string> calls;
    explicit Recorder(int* d) : done(d) {}
    void changed() override { calls.push_back(std::to_string(now()) + ":" + std::to_string(*done)); }
  };
  int done = 0;
  Recorder watch(&done);
  Activity a, b, unasked;
  Log log;
  log.watch(b.event(), "b");
  sc_core::sc_event go;
  for (Activity* act : {&a, &b}) {
    sc_core::sc_spawn_options o;
    o.spawn_method();
    o.set_sensitivity(&go);
    o.dont_initialize();
    sc_core::sc_spawn(
        [act, &done] {
          ++done;
          act->note();
        },
        nullptr, &o);
  }
  sc_core::sc_spawn([&] {
    sc_core::wait(10, sc_core::SC_NS);
    go.notify();  // both methods run in this cycle: one call, after both
    sc_core::wait(20, sc_core::SC_NS);
    unasked.note();  // nobody asked for its event: the watch is still called
    sc_core::wait(5, sc_core::SC_NS);
    go.notify();
  });
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
  BOOST_TEST(watch.calls == (std::vector<std::string>{"10:2", "30:2", "35:4"}), boost::test_tools::per_element());
  BOOST_TEST(log.lines == (Lines{"b@10", "b@35"}), boost::test_tools::per_element());
}

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
