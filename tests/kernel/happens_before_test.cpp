// data_race's happens-before edges as the kernel layer reports them: for each
// kind, one object whose write is ordered before the other context's read by
// the edge (silent), one written after the edge (a warning). The real
// CheckerSet is the Kernel's observer. One SystemC elaboration per process:
// CTest runs each case alone (--run_test=<case>).
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "host_driver_model/kernel/kthread.h"
#include "host_driver_model/kernel/lock.h"
#include "host_driver_model/kernel/slab.h"
#include "host_driver_model/kernel/timer.h"
#include "host_driver_model/kernel/wait.h"
#include "host_driver_model/kernel/workqueue.h"
#include "sim/checkers/checker_set.h"

using namespace qedisim;
using namespace qedisim::kern;
using sc_core::sc_time;

namespace {

struct Shared {
  static constexpr const char* kTypeName = "iscsi_conn";
  int x = 0;
};

struct World {
  checkers::CheckerSet set;
  Kernel kernel{nullptr, &set, 1, Duration{}};
  Context timer_ctx{"timer"};
  TimerWheel wheel{"wheel", timer_ctx};
  Slab<Shared> slab;
  KPtr<Shared> ordered, racing;
  std::vector<std::unique_ptr<Context>> contexts;
  Context setup{"setup"};

  World() {
    kernel.set_current(&setup);
    ordered = slab.alloc("ordered");
    racing = slab.alloc("racing");
  }
  template <typename F>
  void thread(const char* name, F body) {
    contexts.push_back(std::make_unique<Context>(name));
    Context* c = contexts.back().get();
    sc_core::sc_spawn([this, c, body] {
      kernel.set_current(c);
      c->bind_process(sc_core::sc_get_current_process_handle().get_process_object());
      body();
    });
  }
  void read_both() {
    (void)KRD(ordered, x);
    (void)KRD(racing, x);
  }
  // Exactly one warning, on the object written after the edge.
  void expect_only_the_racing_object() {
    sc_core::sc_start(sc_time(1, sc_core::SC_SEC));
    const auto w = set.warnings();
    BOOST_REQUIRE_EQUAL(w.size(), 1u);
    BOOST_TEST(w[0].object.find("racing") != std::string::npos, w[0].object << ": " << w[0].message);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(lock_release_orders_the_next_acquire) {
  World w;
  SpinLock lock("list_lock");
  w.thread("writer", [&] {
    {
      Guard g(lock);
      KWR(w.ordered, x) = 1;
    }
    KWR(w.racing, x) = 1;
  });
  w.thread("reader", [&] {
    sleep_for(Duration::from_ms(1));
    { Guard g(lock); }
    w.read_both();
  });
  w.expect_only_the_racing_object();
}

BOOST_AUTO_TEST_CASE(wake_up_orders_the_woken_wait) {
  World w;
  WaitQueue wq("ehwait");
  bool flag = false;
  w.thread("waiter", [&] {
    wait_event(wq, [&] { return flag; });
    w.read_both();
  });
  w.thread("waker", [&] {
    sleep_for(Duration::from_ms(1));
    KWR(w.ordered, x) = 1;
    flag = true;
    wq.wake_up();
    KWR(w.racing, x) = 1;
  });
  w.expect_only_the_racing_object();
}

BOOST_AUTO_TEST_CASE(queue_work_orders_the_work) {
  World w;
  Workqueue wq("tmf_wq", "tmf_wq/host0");
  Work work("qedi_abort_work", [&] {
    sleep_for(Duration::from_ms(1));
    w.read_both();
  });
  w.thread("eh", [&] {
    KWR(w.ordered, x) = 1;
    wq.queue_work(work);
    KWR(w.racing, x) = 1;
  });
  w.expect_only_the_racing_object();
}

// kthread_run at probe time (qedi_percpu_io_thread): what the creator wrote
// before is ordered before the thread's body, what it writes after is not.
BOOST_AUTO_TEST_CASE(kthread_run_orders_the_thread) {
  World w;
  KWR(w.ordered, x) = 1;  // the setup context, before kthread_run
  KThread io("io", "qedi_thread/0", [&] {
    sleep_for(Duration::from_ms(1));
    w.read_both();
  });
  KWR(w.racing, x) = 1;
  w.expect_only_the_racing_object();
}

BOOST_AUTO_TEST_CASE(flush_work_orders_after_the_work) {
  World w;
  Workqueue wq("tmf_wq", "tmf_wq/host0");
  Work work("qedi_abort_work", [&] { KWR(w.ordered, x) = 1; });
  w.thread("other", [&] { KWR(w.racing, x) = 1; });  // no edge to the flusher
  w.thread("eh", [&] {
    sleep_for(Duration::from_ms(1));
    wq.queue_work(work);
    wq.flush_work(work);
    w.read_both();
  });
  w.expect_only_the_racing_object();
}

BOOST_AUTO_TEST_CASE(mod_timer_orders_the_callback) {
  World w;
  Timer timer("transport_timer", [&] { w.read_both(); });
  w.thread("xmit", [&] {
    KWR(w.ordered, x) = 1;
    timer.mod_timer(Duration::from_ms(1));
    KWR(w.racing, x) = 1;
  });
  w.expect_only_the_racing_object();
}

BOOST_AUTO_TEST_CASE(del_timer_sync_orders_after_a_callback_that_ran) {
  World w;
  Timer timer("transport_timer", [&] {
    KWR(w.ordered, x) = 1;
    sleep_for(Duration::from_ms(2));  // still running when del_timer_sync is called
  });
  w.thread("other", [&] { KWR(w.racing, x) = 1; });
  w.thread("stop", [&] {
    timer.mod_timer(Duration::from_ms(1));
    sleep_for(Duration::from_ms(2));
    timer.del_timer_sync();
    w.read_both();
  });
  w.expect_only_the_racing_object();
}

BOOST_AUTO_TEST_CASE(marked_accesses_never_race_with_each_other) {
  World w;
  w.thread("a", [&] { KWRM(w.ordered, x) = 1; });
  w.thread("b", [&] {
    sleep_for(Duration::from_ms(1));
    (void)KRDM(w.ordered, x);
    KWR(w.racing, x) = 2;
  });
  w.thread("c", [&] {
    sleep_for(Duration::from_ms(2));
    (void)KRD(w.racing, x);
  });
  w.expect_only_the_racing_object();
}

// sched.stall (windows anywhere): with every point drawn, a plain access, a
// lock acquire and a wake_up each hold the context; nothing holds it under a
// spinlock, inside rcu_read_lock (where sleeping is a modelling error), at a
// marked access or in an atomic context.
BOOST_AUTO_TEST_CASE(stalls_hold_at_plain_accesses_locks_and_wake_ups_but_never_under_a_spinlock) {
  World w;
  w.kernel.set_stalls(Kernel::Stalls{Duration::from_ms(1), 1'000'000, 0, 1}, 7);
  SpinLock lock("list_lock");
  WaitQueue wq("ehwait");
  std::int64_t plain = -1, marked = -1, locked = -1, under_lock = -1, woke = -1, atomic = -1, in_rcu = -1;
  bool slept_in_rcu = true;
  w.thread("t", [&] {
    std::int64_t t0 = Kernel::now_ns();
    (void)KRD(w.ordered, x);
    plain = Kernel::now_ns() - t0;
    t0 = Kernel::now_ns();
    (void)KRDM(w.ordered, x);
    marked = Kernel::now_ns() - t0;
    t0 = Kernel::now_ns();
    {
      Guard g(lock);
      locked = Kernel::now_ns() - t0;
      t0 = Kernel::now_ns();
      KWR(w.ordered, x) = 1;
      under_lock = Kernel::now_ns() - t0;
    }
    t0 = Kernel::now_ns();
    wq.wake_up();
    woke = Kernel::now_ns() - t0;
    {
      RcuReadLock rcu;  // blk-mq's hctx_lock around queue_rq
      t0 = Kernel::now_ns();
      KWR(w.ordered, x) = 2;
      in_rcu = Kernel::now_ns() - t0;
      try {
        sleep_for(Duration::from_ms(1));
      } catch (const std::logic_error&) {
        slept_in_rcu = false;
      }
    }
  });
  Timer in_irq("irq", [&] {
    const std::int64_t t0 = Kernel::now_ns();
    (void)KRD(w.racing, x);
    atomic = Kernel::now_ns() - t0;
  });
  in_irq.mod_timer(Duration::from_ms(50));  // timer callbacks run in softirq context
  sc_core::sc_start(sc_time(1, sc_core::SC_SEC));
  BOOST_TEST(plain > 0);
  BOOST_TEST(marked == 0);
  BOOST_TEST(locked > 0);  // before the acquire
  BOOST_TEST(under_lock == 0);
  BOOST_TEST(woke > 0);
  BOOST_TEST(atomic == 0);
  BOOST_TEST(in_rcu == 0);
  BOOST_TEST(!slept_in_rcu);
  BOOST_TEST(w.kernel.stalls_taken() == 3u);
}

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
