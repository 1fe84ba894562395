// A kernel thread (kthread_run): one SystemC process running `body` in its
// own Context. The body normally loops for ever, blocking only through the
// primitives of this folder. A null dereference (AbandonCall) escaping the
// body ends the thread, as an oops would; loops catch it per iteration.
#pragma once

#include <functional>
#include <string>
#include <systemc>

#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/sched.h"

namespace qedisim::kern {

class KThread : public sc_core::sc_module {
 public:
  KThread(sc_core::sc_module_name name, std::string context_name, std::function<void()> body)
      : sc_core::sc_module(name), context_(std::move(context_name)), body_(std::move(body)) {
    Kernel::hb_send(this);  // kthread_run -> the thread runs
    SC_HAS_PROCESS(KThread);
    SC_THREAD(run);
  }
  Context& context() { return context_; }
  // The thread's SystemC process once it started (empty before); still
  // valid after the thread ended.
  const sc_core::sc_process_handle& process() const { return process_; }

 private:
  void run() {
    Kernel::get().set_current(&context_);
    process_ = sc_core::sc_get_current_process_handle();
    context_.bind_process(process_.get_process_object());
    Kernel::hb_recv(this);
    try {
      body_();
    } catch (const AbandonCall&) {
    }
  }

  Context context_;
  std::function<void()> body_;
  // Held while the module lives: a thread that ends (qedi's probe thread,
  // once its work is done) keeps its SystemC process, and with it its
  // stack, instead of SystemC freeing them at its end. The memory of an
  // explore worker's run is put back after it (sim/explore/restore_point.h):
  // a stack unmapped by a run had to be mapped and filled again, 64 pages
  // of a 256 KiB stack, every run.
  sc_core::sc_process_handle process_;
};

}  // namespace qedisim::kern
