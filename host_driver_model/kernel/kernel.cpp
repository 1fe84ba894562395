#include "host_driver_model/kernel/kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

#include "common/address_index.h"
#include "common/failpoint_hook.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/lock.h"
#include "host_driver_model/kernel/printk.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/kernel/timer.h"
#include "host_driver_model/kernel/workqueue.h"

namespace qedisim::kern {

namespace {
TimerWheel* g_wheel = nullptr;
// Code run during elaboration (object setup before any process) runs here.
Context g_setup_context("setup");
}  // namespace

// ---- Kernel ---------------------------------------------------------------

Kernel::Kernel(FailpointHook* failpoints, Observer* observer, std::uint64_t seed, Duration jitter)
    : failpoints_(failpoints), observer_(observer), current_(&g_setup_context), rng_(seed), jitter_(jitter) {
  instance_ = this;
}

// Objects that outlive their kernel (a unit test's) tell nobody of their end.
Kernel::~Kernel() {
  if (instance_ == this) instance_ = nullptr;
}

void emit_log(EvSys sys, std::int32_t session, std::string_view text) {
  if (!Kernel::events) return;
  const Context* c = Kernel::current_context();
  Ev e;
  e.kind = EvKind::log;
  e.sys = sys;
  e.ns = Kernel::now_ns();
  e.session = session;
  e.ctx = c ? std::string_view(c->name()) : std::string_view("-");
  e.fn = c ? c->function() : "-";
  e.text = text;
  Kernel::events->emit(e);
}

void slice(const Context& ctx, const char* fn, bool begin) {
  if (!Kernel::events || !Kernel::events->timeline()) return;
  Ev e;
  e.kind = begin ? EvKind::begin : EvKind::end;
  e.ns = Kernel::now_ns();
  e.ctx = ctx.name();
  e.fn = begin ? fn : "-";
  e.text = begin ? fn : "";
  Kernel::events->emit(e);
}

std::uint64_t next_flow_id() {
  static std::uint64_t id = 0;
  return ++id;
}

void emit_timeline(EvKind kind, EvSys sys, std::string_view text, std::uint64_t id, std::int64_t value) {
  if (!Kernel::events || !Kernel::events->timeline()) return;
  const Context* c = Kernel::current_context();
  Ev e;
  e.kind = kind;
  e.sys = sys;
  e.ns = Kernel::now_ns();
  e.ctx = c ? std::string_view(c->name()) : std::string_view("-");
  e.fn = c ? c->function() : "-";
  e.text = text;
  e.id = id;
  e.value = value;
  Kernel::events->emit(e);
}

void emit_flow_out_from(std::string_view ctx, std::int64_t ns, EvSys sys, std::string_view text, std::uint64_t id) {
  if (!Kernel::events || !Kernel::events->timeline()) return;
  Ev e;
  e.kind = EvKind::flow_out;
  e.sys = sys;
  e.ns = ns;
  e.ctx = ctx;
  e.fn = "-";
  e.text = text;
  e.id = id;
  Kernel::events->emit(e);
}

void Kernel::hb_send(const void* channel) {
  if (instance_ && instance_->current_) instance_->observer_->handoff_send(channel);
}

// The object at `channel` ends (a timer, work, lock, wait queue or request
// destroyed): a later object at the same address is another channel, with
// no order from this one's past.
void Kernel::hb_retire(const void* channel) {
  if (instance_) instance_->observer_->handoff_retire(channel);
}

void Kernel::hb_recv(const void* channel) {
  if (instance_ && instance_->current_) instance_->observer_->handoff_recv(channel);
}

void Kernel::set_stalls(const Stalls& s, std::uint64_t seed) {
  stalls_ = s;
  stall_rng_.seed(seed ^ 0x5741'4c4c'5354'414cull);  // "WALLSTAL": not the jitter's stream
  stall_at_.clear();
  next_stall_ = 0;
  stall_points_seen_ = 0;
  if (s.points > 0)
    for (std::uint64_t i = 0; i < s.points; ++i)
      stall_at_.push_back(stall_rng_() % std::max<std::uint64_t>(s.horizon, 1));
  std::sort(stall_at_.begin(), stall_at_.end());
}

void Kernel::stall_point() {
  Context& self = *current_;
  // Timer callbacks run in softirq context: atomic, like an MSI-X handler.
  const bool softirq = g_wheel && &self == &g_wheel->context();
  if (!self.may_sleep_now() || softirq || std::uncaught_exceptions() > 0) return;
  const std::uint64_t n = stall_points_seen_++;
  bool hit = false;
  if (!stall_at_.empty()) {
    while (next_stall_ < stall_at_.size() && stall_at_[next_stall_] == n) {
      hit = true;
      ++next_stall_;
    }
  } else {
    hit = stall_rng_() % 1'000'000 < stalls_.rate_ppm;
  }
  if (!hit) return;
  // Only the context's own thread is held: elaboration-time code runs outside
  // any process, and code that borrows a context from another process (a
  // workload stream, a device callback) must not be suspended as that context.
  const sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (me.proc_kind() != sc_core::SC_THREAD_PROC_ || self.process() != me.get_process_object()) return;
  const auto d = static_cast<std::int64_t>(1 + stall_rng_() % static_cast<std::uint64_t>(stalls_.max.ns));
  ++stalls_taken_;
  if (events) printk(EvSys::kernel, -1, "sched: {} stalled for {} us in {}", self.name(), d / 1000, self.function());
  timeline_wait(d);
  set_current(&self);
}

std::int64_t Kernel::jitter_ns() {
  if (jitter_.ns <= 0) return 0;
  return static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(jitter_.ns + 1));
}

// ---- Context --------------------------------------------------------------

namespace {
std::vector<Context*>& registry() {
  static std::vector<Context*> contexts;
  return contexts;
}
}  // namespace

namespace {
// Context names, never freed (a node's string never moves): a header may
// name a context that has ended.
const std::string* intern_context_name(std::string name) {
  static auto* names = new std::unordered_set<std::string>();
  return &*names->insert(std::move(name)).first;
}
}  // namespace

Context::Context(std::string name) : name_(intern_context_name(std::move(name))) {
  static std::uint32_t next_id = 0;
  id_ = next_id++;
  registry().push_back(this);
}

Context::~Context() {
  auto& r = registry();
  r.erase(std::remove(r.begin(), r.end(), this), r.end());
}

const std::vector<Context*>& Context::all() { return registry(); }

void Kernel::wait_begin(Context& ctx, std::string_view what, bool idle) {
  // Wait names are string literals or long-lived object names.
  ctx.set_waiting(what.data(), idle);
  observer_->wait_begin(ctx, what, idle);
}

void Kernel::wait_end(Context& ctx, bool timed_out) {
  ctx.set_waiting(nullptr, false);
  observer_->wait_end(ctx, timed_out);
}

namespace {
// The lock chains seen in this process (lockdep's chain cache, per lock
// instance): (lock, the chain it is taken on top of) -> the chain it makes.
// A chain is never forgotten (a lock at a reused address extends the same
// chains, as its held() would).
class LockChains {
 public:
  std::uint32_t child(std::uint32_t parent, const Lock* l) {
    return index_.find(
        l, parent, [](std::uint32_t chain) { return chain; },
        [&] {
          index_.insert(l, parent, ++last_);
          return last_;
        });
  }

 private:
  AddressIndex index_{64};
  std::uint32_t last_ = Context::kNoLocksChain;
};

LockChains& lock_chains() {
  static LockChains chains;
  return chains;
}
}  // namespace

std::uint32_t Lock::chain_over_new(std::uint32_t parent) const {
  chain_ = lock_chains().child(parent, this);
  chain_parent_ = parent;
  return chain_;
}

void Context::acquired(const Lock* l) {
  chain_key_ = l->chain_over(chain_key_);
  chains_.push_back(chain_key_);
  held_.push_back(l);
}

void Context::released(const Lock* l) {
  if (!held_.empty() && held_.back() == l) {  // the innermost: the chain under it again
    held_.pop_back();
    chains_.pop_back();
    chain_key_ = chains_.empty() ? kNoLocksChain : chains_.back();
    return;
  }
  const auto it = std::find(held_.rbegin(), held_.rend(), l);
  if (it == held_.rend()) return;
  const auto k = static_cast<std::size_t>(held_.rend() - it) - 1;  // its index
  held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(k));
  // The locks above it make new chains.
  chains_.resize(k);
  chain_key_ = chains_.empty() ? kNoLocksChain : chains_.back();
  for (std::size_t i = k; i < held_.size(); ++i) {
    chain_key_ = held_[i]->chain_over(chain_key_);
    chains_.push_back(chain_key_);
  }
}

void release_abandoned_locks(Context& self, std::size_t keep) {
  while (self.held().size() > keep) {
    Lock* l = const_cast<Lock*>(self.held().back());
    if (l->owner() == &self)
      l->unlock();
    else
      self.released(l);
  }
}

AbandonScope::AbandonScope() : self_(&Kernel::get().current()), held_(self_->held().size()) {}

void AbandonScope::unwind() const { release_abandoned_locks(*self_, held_); }

bool Context::holds_spinlock() const {
  return std::any_of(held_.begin(), held_.end(), [](const Lock* l) { return l->kind() == Lock::Kind::spinlock; });
}

// ---- scheduling -----------------------------------------------------------

namespace {
void check_may_sleep(Context& self, const char* what) {
  if (!self.may_sleep_now())
    throw std::logic_error(
        fmt::format("modelling error: {} in {} (context {}) that may not sleep", what, self.function(), self.name()));
}
}  // namespace

void sleep_for(Duration d) {
  Kernel& k = Kernel::get();
  Context& self = k.current();
  check_may_sleep(self, "sleep");
  timeline_wait(d.ns);
  k.set_current(&self);
}

bool wait_on(sc_core::sc_event& ev, Duration timeout) {
  Kernel& k = Kernel::get();
  Context& self = k.current();
  check_may_sleep(self, "wait");
  const std::int64_t start = Kernel::now_ns();
  timeline_wait(ev, timeout.ns);
  k.set_current(&self);
  // timeline_wait(ev, t) cannot say which woke it; an event at the deadline counts as the timeout.
  return Kernel::now_ns() - start < timeout.ns;
}

void wait_on(sc_core::sc_event& ev) {
  Kernel& k = Kernel::get();
  Context& self = k.current();
  check_may_sleep(self, "wait");
  sc_core::wait(ev);
  k.set_current(&self);
}

namespace {
// A hold models slow code, not a sleep: allowed under a spinlock.
void hold(Kernel& k, std::int64_t delay_ns) {
  if (delay_ns <= 0) return;
  Context& self = k.current();
  timeline_wait(delay_ns);
  k.set_current(&self);
}

// The failpoint's delay at `ev` (0 without failpoints).
std::int64_t failpoint_delay_ns(Kernel& k, const PointEvent& ev) {
  if (!k.failpoints()) return 0;
  Context& self = k.current();
  const PointOutcome out = k.failpoints()->hit(ev);
  k.set_current(&self);  // an `on:` action may have run kernel code in another context
  return out.delay.ns;
}
}  // namespace

void point(std::string_view name, std::optional<std::uint32_t> session) {
  Kernel& k = Kernel::get();
  const std::int64_t jitter = k.jitter_ns();
  PointEvent ev;
  ev.point = name;
  ev.session = session;
  hold(k, jitter + failpoint_delay_ns(k, ev));
}

void queue_point(std::string_view name, std::uint32_t cq) {
  Kernel& k = Kernel::get();
  PointEvent ev;
  ev.point = name;
  ev.cq = cq;
  hold(k, failpoint_delay_ns(k, ev));
}

void sched_point() {
  Kernel& k = Kernel::get();
  hold(k, k.jitter_ns());
}

// ---- locks ----------------------------------------------------------------

void Lock::lock() {
  Kernel& k = Kernel::get();
  Context& self = k.current();
  k.maybe_stall();  // a window before the critical section (sched.stall)
  if (owner_ == &self)
    throw std::logic_error(
        fmt::format("modelling error: {} takes {} twice in {}", self.name(), name_, self.function()));
  if (owner_) {
    if (kind_ == Kind::mutex) check_may_sleep(self, "mutex_lock");
    k.wait_begin(self, name_, false);
    ++waiters_;
    while (owner_) sc_core::wait(released_.get());
    --waiters_;
    k.set_current(&self);
    k.wait_end(self, false);
  }
  owner_ = &self;
  self.acquired(this);
  Kernel::hb_recv(this);
}

void Lock::unlock() noexcept {
  if (owner_) {
    Kernel::hb_send(this);
    owner_->released(this);
  }
  owner_ = nullptr;
  // A delta notification nobody waits for still cost a delta cycle.
  if (waiters_ != 0) released_.notify_delta();
}

// ---- timers ---------------------------------------------------------------

Lock::~Lock() { Kernel::hb_retire(this); }  // a later lock at this address is another channel

Timer::~Timer() {
  Kernel::hb_retire(this);
  if (pending_ && g_wheel) g_wheel->forget(*this);
}

void Timer::reset() {
  Kernel::hb_retire(this);
  if (pending_ && g_wheel) g_wheel->forget(*this);
  pending_ = false;
  expires_ns_ = 0;
  owner_ = nullptr;
}

void Timer::mod_timer(Duration delay) {
  if (pending_) TimerWheel::get().forget(*this);
  pending_ = true;
  Kernel::hb_send(this);  // mod_timer -> the callback
  expires_ns_ = Kernel::now_ns() + delay.ns;
  TimerWheel::get().arm(*this, expires_ns_);
}

bool Timer::del_timer() {
  if (!pending_) return false;
  TimerWheel::get().forget(*this);
  pending_ = false;
  return true;
}

bool Timer::del_timer_sync() {
  const bool was_pending = del_timer();
  TimerWheel& w = TimerWheel::get();
  Kernel& k = Kernel::get();
  if (&k.current() == &w.context()) return was_pending;  // from the callback: it would wait for itself
  Context& self = k.current();
  while (w.running() == this) sc_core::wait(w.callback_done());
  k.set_current(&self);
  Kernel::hb_recv(this);  // a callback that ran is ordered before the return
  return was_pending;
}

TimerWheel::TimerWheel(sc_core::sc_module_name name, Context& timer_context)
    : sc_core::sc_module(name), context_(timer_context), roots_(this, "armed timers", [this](RefVisitor& v) {
        // The table's order does not matter: marking is order-free.
        for (const Slot& s : slots_)
          if (s.token) v.reach(s.timer->owner());
      }) {
  g_wheel = this;
  SC_HAS_PROCESS(TimerWheel);
  SC_THREAD(run);
}

void TimerWheel::run() {
  for (;;) {
    sc_core::wait(wake_.event());
    fire();
  }
}

TimerWheel& TimerWheel::get() {
  if (!g_wheel) throw std::logic_error("timer used before the TimerWheel was created");
  return *g_wheel;
}

void TimerWheel::arm(Timer& t, std::int64_t expires_ns) {
  t.token_ = ++tokens_;
  if (free_slots_.empty()) {
    t.slot_ = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    t.slot_ = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[t.slot_] = Slot{t.token_, &t};
  heap_.push_back(Entry{expires_ns, seq_++, t.token_, t.slot_});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Entry>());
  ++pending_;
  reschedule();
}

void TimerWheel::forget(Timer& t) {
  // The heap entry goes stale (its token is no longer live) and is skipped
  // when reached, without touching the timer, which may be freed by then.
  if (slots_[t.slot_].token == t.token_) release(t.slot_);
  // Per-command timers are nearly always cancelled long before they expire:
  // drop stale entries once they outnumber the live ones, so the heap stays
  // as large as the armed timers, not as the run. (expires, seq) is a total
  // order, so the entries pop in the same order from any valid heap.
  if (heap_.size() > 2 * pending_ + 256) compact();
}

void TimerWheel::release(std::uint32_t slot) {
  slots_[slot] = Slot{};
  free_slots_.push_back(slot);
  --pending_;  // every live slot was counted by arm()
}

void TimerWheel::compact() {
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(), [this](const Entry& e) { return !live(e); }), heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), std::greater<Entry>());
}

void TimerWheel::reschedule() {
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    if (!live(top)) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Entry>());
      heap_.pop_back();
      continue;
    }
    const std::int64_t now = Kernel::now_ns();
    const std::int64_t delay = std::max<std::int64_t>(0, top.expires_ns - now);
    // Already due at that time: keep the scheduled wake-up and its place
    // among equal-time ones.
    if (delay > 0 && wake_.pending_at() == now + delay) return;
    wake_.cancel();
    wake_.notify_in(delay);
    return;
  }
}

void TimerWheel::fire() {
  Kernel& k = Kernel::get();
  Context* previous = &k.current();
  // A callback may spin on a lock, so time moves inside the loop: every entry
  // due by then runs now (a notification while spinning was not waited for).
  while (!heap_.empty() && heap_.front().expires_ns <= Kernel::now_ns()) {
    const Entry e = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<Entry>());
    heap_.pop_back();
    if (!live(e)) continue;
    Timer* t = slots_[e.slot].timer;
    release(e.slot);
    t->pending_ = false;
    k.set_current(&context_);
    // A copy: the owner may destroy the timer while the callback spins.
    const std::function<void()> fn = t->fn_;
    running_ = t;
    Kernel::hb_recv(t);
    try {
      fn();
    } catch (const AbandonCall&) {
      // null dereference in a timer callback: recorded, the callback ends.
      release_abandoned_locks(context_);
    }
    Kernel::hb_send(t);  // the callback -> del_timer_sync's return
    running_ = nullptr;
    callback_done_.notify_delta();
  }
  k.set_current(previous);
  reschedule();
}

// ---- workqueues -----------------------------------------------------------

Workqueue::Workqueue(sc_core::sc_module_name name, std::string context_name)
    : sc_core::sc_module(name), context_(std::move(context_name)), roots_(this, "queued works", [this](RefVisitor& v) {
        for (const Work* w : queue_) v.reach(w->owner);
        if (running_) v.reach(running_->owner);
      }) {
  SC_HAS_PROCESS(Workqueue);
  SC_THREAD(worker);
}

bool Workqueue::queue_work(Work& w) {
  if (w.pending) return false;
  w.pending = true;
  Kernel::hb_send(&w);  // queue_work -> the work starts
  if (Kernel::events) {
    printk(EvSys::kernel, -1, "workqueue_queue_work: work={} workqueue={}", w.name, context_.name());
    w.flow_id = next_flow_id();
    emit_timeline(EvKind::flow_out, EvSys::kernel, "queue_work", w.flow_id);
  }
  queue_.push_back(&w);
  queued_.notify_delta();
  return true;
}

void Workqueue::flush_work(Work& w) {
  Kernel& k = Kernel::get();
  Context& self = k.current();
  if (!w.pending && running_ != &w) return;
  k.wait_begin(self, "flush_work", false);
  while (w.pending || running_ == &w) wait_on(done_.get());
  k.wait_end(self, false);
  Kernel::hb_recv(&w);  // the work's end -> flush_work returns
}

void Workqueue::worker() {
  Kernel& k = Kernel::get();
  context_.bind_process(sc_core::sc_get_current_process_handle().get_process_object());
  for (;;) {
    k.set_current(&context_);
    if (queue_.empty()) {
      k.wait_begin(context_, "work", true);
      while (queue_.empty()) sc_core::wait(queued_.get());
      k.set_current(&context_);
      k.wait_end(context_, false);
    }
    Work* w = queue_.front();
    queue_.pop_front();
    w->pending = false;
    running_ = w;
    Kernel::hb_recv(w);
    try {
      KFunc f(w->name);
      if (Kernel::events) {
        printk(EvSys::kernel, -1, "workqueue_execute_start: work={}", w->name);
        emit_timeline(EvKind::flow_in, EvSys::kernel, "queue_work", w->flow_id);
      }
      w->fn();
    } catch (const AbandonCall&) {
      // null dereference: the work function is abandoned, the worker goes on.
      release_abandoned_locks(context_);
    }
    k.set_current(&context_);
    Kernel::hb_send(w);
    running_ = nullptr;
    done_.notify_delta();
  }
}

}  // namespace qedisim::kern
