// The raw SystemC floor on this machine: SC_THREAD ping-pong activations per
// second and SC_METHOD events per second. One measurement per process
// (SystemC elaborates once): `qedisim_floor thread N` / `qedisim_floor method N`
// prints "<kind> <count> <seconds>".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <systemc>

namespace {

struct PingPong : sc_core::sc_module {
  sc_core::sc_event ping, pong;
  long n, count = 0;
  PingPong(sc_core::sc_module_name name, long n) : sc_module(name), n(n) {
    SC_HAS_PROCESS(PingPong);
    SC_THREAD(a);
    SC_THREAD(b);
  }
  void a() {
    for (;;) {
      ping.notify(sc_core::SC_ZERO_TIME);
      wait(pong);
      if (++count >= n) sc_core::sc_stop();
    }
  }
  void b() {
    for (;;) {
      wait(ping);
      ++count;
      pong.notify(sc_core::SC_ZERO_TIME);
    }
  }
};

struct MethodLoop : sc_core::sc_module {
  sc_core::sc_event ev;
  long n, count = 0;
  MethodLoop(sc_core::sc_module_name name, long n) : sc_module(name), n(n) {
    SC_HAS_PROCESS(MethodLoop);
    SC_METHOD(step);
    sensitive << ev;
  }
  void step() {
    if (++count >= n) return;
    ev.notify(1, sc_core::SC_NS);
  }
};

}  // namespace

int sc_main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s thread|method|empty N\n", argv[0]);
    return 2;
  }
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  const long n = std::atol(argv[2]);
  const auto t0 = std::chrono::steady_clock::now();
  long count = 0;
  if (std::strcmp(argv[1], "thread") == 0) {
    PingPong p("p", n);
    sc_core::sc_start();
    count = p.count;
  } else if (std::strcmp(argv[1], "method") == 0) {
    MethodLoop m("m", n);
    sc_core::sc_start();
    count = m.count;
  } else {
    // "empty": a trivial SystemC program, for start-up comparisons.
    sc_core::sc_start(1, sc_core::SC_NS);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s %ld %.6f\n", argv[1], count, s);
  return 0;
}
