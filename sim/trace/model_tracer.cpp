#include "sim/trace/model_tracer.h"

#include <algorithm>
#include <string>

#include "hba_model/hba.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/libiscsi/iscsi_objects.h"
#include "host_driver_model/qedi/qedi.h"

namespace qedisim {

namespace {
std::vector<std::string> names(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

// In enum order, by the name libiscsi's enum gives each value.
std::vector<std::string> tmf_state_names() {
  std::vector<std::string> v;
  for (int i = 0; i <= static_cast<int>(drv::TmfState::NOT_FOUND); ++i)
    v.emplace_back(drv::tmf_state_name(static_cast<drv::TmfState>(i)));
  return v;
}

const std::vector<std::string> kTmfStates = tmf_state_names();
const std::vector<std::string> kSessionStates =
    names({"FREE", "LOGGED_IN", "FAILED", "TERMINATE", "IN_RECOVERY", "RECOVERY_FAILED", "LOGGING_OUT"});
const std::vector<std::string> kClsStates = names({"LOGGED_IN", "FAILED", "FREE"});
const std::vector<std::string> kConnStages = names({"INITIAL", "STARTED", "STOPPED", "CLEANUP_WAIT"});

// Context names carry '/', which VCD identifiers may not: "tmf_wq/host0" -> "tmf_wq_host0".
std::string vcd_name(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == '/' || c == ' ') c = '_';
  return out;
}
}  // namespace

ModelTracer::ModelTracer(sc_core::sc_module_name name, Tracer& tracer, const drv::Qedi& qedi, const hba::Hba& hba,
                         const std::vector<const sc_core::sc_event*>& activity, unsigned sessions)
    : sc_module(name), tracer_(tracer), qedi_(qedi), hba_(hba) {
  for (unsigned i = 0; i < sessions; ++i) {
    const std::string s = "host.session" + std::to_string(i);
    const std::string c = s + ".conn0";
    SessionSignals sig{};
    sig.tmf_state = tracer_.declare_enum(s, "tmf_state", "tmf_state", kTmfStates);
    sig.session_state = tracer_.declare_enum(s, "session_state", "session_state", kSessionStates);
    sig.cls_state = tracer_.declare_enum(s, "cls_session_state", "cls_session_state", kClsStates);
    sig.blocked = tracer_.declare_int(s, "target_blocked", 1);
    sig.c_stage = tracer_.declare_enum(c, "c_stage", "conn_stage", kConnStages);
    sig.bound = tracer_.declare_int(c, "ep_bound", 1);
    sig.cleanup_req = tracer_.declare_int(c, "cmd_cleanup_req", 16);
    sig.cleanup_cmpl = tracer_.declare_int(c, "cmd_cleanup_cmpl", 16);
    sig.active_cmds = tracer_.declare_int(c, "active_cmd_count", 16);
    sig.fw_cleanup_works = tracer_.declare_int(c, "fw_cleanup_works", 8);
    sig.ep_disconnecting = tracer_.declare_int(c, "ep_disconnect_starting", 1);
    sessions_.push_back(sig);
  }
  tids_in_use_ = tracer_.declare_int("host.qedi", "tids_in_use", 16);
  tmf_works_queued_ = tracer_.declare_int("host.qedi", "tmf_works_queued", 8);
  tmf_work_running_ = tracer_.declare_string("host.qedi", "tmf_work_running");
  cleanups_pending_ = tracer_.declare_int("hba.fw", "cleanups_pending", 16);
  for (unsigned v = 0; v < hba_.firmware().vectors(); ++v) {
    const std::string scope = "hba.cq" + std::to_string(v);
    cq_prod_.push_back(tracer_.declare_int(scope, "prod", 32));
    cq_cons_.push_back(tracer_.declare_int(scope, "cons", 32));
  }
  SC_HAS_PROCESS(ModelTracer);
  SC_METHOD(sample);
  for (const auto* e : activity) sensitive << *e;
  SC_METHOD(poll);
  sensitive << poll_.event();
  dont_initialize();
}

void ModelTracer::poll() {
  if (poll_.due(sim_now_ns())) sample();
}

void ModelTracer::declare_contexts() {
  const auto& all = kern::Context::all();
  for (; contexts_declared_ < all.size(); ++contexts_declared_)
    contexts_.push_back(tracer_.declare_string("host.ctx", vcd_name(all[contexts_declared_]->name())));
  seen_.resize(contexts_.size());
}

void ModelTracer::sample() {
  const std::int64_t now = sim_now_ns();
  const auto& sessions = drv::driver().sessions;
  for (std::size_t i = 0; i < sessions_.size() && i < sessions.size(); ++i) {
    const drv::IscsiSession* s = sessions[i].raw();
    const SessionSignals& sig = sessions_[i];
    if (!s) continue;
    const drv::IscsiConn* c = s->leadconn.raw();
    // The TMF fields live on the conn before p06 and on the session after
    // it; whichever is in use is the one that left INITIAL.
    drv::TmfState tmf = s->tmf.tmf_state;
    if (tmf == drv::TmfState::INITIAL && c) tmf = c->tmf.tmf_state;
    tracer_.set(sig.tmf_state, now, static_cast<std::uint64_t>(tmf));
    tracer_.set(sig.session_state, now, static_cast<std::uint64_t>(s->state));
    tracer_.set(sig.cls_state, now, static_cast<std::uint64_t>(s->cls_state));
    tracer_.set(sig.blocked, now, s->target_blocked ? 1 : 0);
    if (!c) continue;
    const drv::QediConn& q = c->dd_data;
    tracer_.set(sig.c_stage, now, static_cast<std::uint64_t>(c->c_stage));
    tracer_.set(sig.bound, now, q.ep.is_null() ? 0 : 1);
    tracer_.set(sig.cleanup_req, now, q.cmd_cleanup_req);
    tracer_.set(sig.cleanup_cmpl, now, q.cmd_cleanup_cmpl);
    tracer_.set(sig.active_cmds, now, q.active_cmd_count);
    tracer_.set(sig.fw_cleanup_works, now, q.fw_cleanup_works);
    tracer_.set(sig.ep_disconnecting, now, q.ep_disconnect_starting ? 1 : 0);
  }
  tracer_.set(tids_in_use_, now, qedi_.tids_in_use());
  auto& wq = const_cast<drv::Qedi&>(qedi_).tmf_thread();
  tracer_.set(tmf_works_queued_, now, wq.queued().size());
  tracer_.set_string(tmf_work_running_, now, wq.running() ? wq.running()->name : "-");
  const auto& f = hba_.firmware().counters();
  tracer_.set(cleanups_pending_, now, f.cleanups_requested - f.cleanups_completed);
  for (unsigned v = 0; v < cq_prod_.size(); ++v) {
    tracer_.set(cq_prod_[v], now, hba_.firmware().cq(v).prod());
    tracer_.set(cq_cons_[v], now, hba_.firmware().cq(v).cons());
  }
  declare_contexts();
  const auto& all = kern::Context::all();
  for (std::size_t i = 0; i < contexts_.size() && i < all.size(); ++i) {
    const kern::Context& ctx = *all[i];
    // Wait and function names are string literals: the same pointers, the
    // same text, nothing to record.
    const char* wait = ctx.waiting_on();
    const CtxSeen now_seen{wait, wait && ctx.idle(), wait ? nullptr : ctx.function()};
    CtxSeen& seen = seen_[i];
    if (seen.wait == now_seen.wait && seen.idle == now_seen.idle && seen.fn == now_seen.fn) continue;
    seen = now_seen;
    std::string& what = scratch_;  // one buffer for every sample: no allocation per context
    if (wait)
      what.assign(now_seen.idle ? "idle:" : "wait:").append(wait);
    else
      what.assign("run:").append(now_seen.fn);
    tracer_.set_string(contexts_[i], now, what);
  }
  // Re-sample on any activity, and at least every millisecond while traced.
  poll_.ran(now);
}

void ModelTracer::add_violation_pulses(const std::vector<Violation>& violations) {
  // A step, not a 1 ns pulse, so that it shows at any zoom: each signal
  // counts its id's violations, rising at every reported time.
  std::vector<Tracer::SignalId> ids;
  for (std::size_t i = 0; i < kInvariantCount; ++i)
    ids.push_back(tracer_.declare_int("checkers", std::string(to_string(static_cast<InvariantId>(i))), 8));
  for (auto id : ids) tracer_.set(id, 0, 0);
  std::vector<std::uint64_t> count(kInvariantCount, 0);
  std::vector<Violation> ordered = violations;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Violation& a, const Violation& b) { return a.time_ns < b.time_ns; });
  for (const auto& v : ordered) {
    const auto i = static_cast<std::size_t>(v.id);
    count[i] = std::min<std::uint64_t>(count[i] + v.count, 255);
    tracer_.set(ids[i], v.time_ns, count[i]);
  }
}

}  // namespace qedisim
