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

 private:
  void run() {
    Kernel::get().set_current(&context_);
    context_.bind_process(sc_core::sc_get_current_process_handle().get_process_object());
    Kernel::hb_recv(this);
    try {
      body_();
    } catch (const AbandonCall&) {
    }
  }

  Context context_;
  std::function<void()> body_;
};

}  // namespace qedisim::kern
