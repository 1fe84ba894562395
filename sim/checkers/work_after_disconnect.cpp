#include "sim/checkers/work_after_disconnect.h"

#include <fmt/format.h>

#include <algorithm>

namespace qedisim::checkers {

const char* work_word(drv::TmfWorkKind k) {
  return k == drv::TmfWorkKind::abort ? "abort work" : "reset-response work";
}

WorkAfterDisconnectChecker::Work* WorkAfterDisconnectChecker::find(Conn& c, const void* work) {
  for (Work& w : c.works)
    if (w.id == work) return &w;
  return nullptr;
}

std::string WorkAfterDisconnectChecker::after_barrier(const Conn& c) const {
  std::string s = fmt::format("qedi_ep_disconnect passed its TMF wait {}", where(c.barrier_at));
  if (c.returned) s.insert(s.size() - 1, fmt::format(", returned {}", secs(c.returned_at.ns)));
  return s;
}

void WorkAfterDisconnectChecker::queued(const Site& at, const ObjRef& conn, drv::TmfWorkKind kind, const void* work) {
  Conn& c = conns_[conn.key];
  Work* w = find(c, work);
  if (!w) {
    c.works.push_back(Work{work, kind, false, at, false});
    w = &c.works.back();
  }
  if (!c.passed || w->reported) return;
  w->reported = true;
  report(at, retype(conn, "qedi_conn"), at.fn, fmt::format("{} queued after {}", work_word(kind), after_barrier(c)));
}

void WorkAfterDisconnectChecker::step(const Site& at, const ObjRef& conn, drv::TmfWorkKind kind, const void* work) {
  Conn& c = conns_[conn.key];
  Work* w = find(c, work);
  if (!w) {
    c.works.push_back(Work{work, kind, true, at, false});
    w = &c.works.back();
  }
  w->running = true;
  if (!c.passed || w->reported) return;
  w->reported = true;
  report(at, retype(conn, "qedi_conn"), at.fn, fmt::format("{} ran after {}", work_word(kind), after_barrier(c)));
}

void WorkAfterDisconnectChecker::done(const Site&, const ObjRef& conn, drv::TmfWorkKind, const void* work) {
  const auto it = conns_.find(conn.key);
  if (it == conns_.end()) return;
  auto& works = it->second.works;
  works.erase(std::remove_if(works.begin(), works.end(), [work](const Work& w) { return w.id == work; }), works.end());
}

void WorkAfterDisconnectChecker::barrier(const Site& at, const ObjRef& conn) {
  Conn& c = conns_[conn.key];
  for (Work& w : c.works) {
    if (w.reported) continue;
    w.reported = true;
    report(at, retype(conn, "qedi_conn"), at.fn,
           fmt::format("{} still {} when qedi_ep_disconnect stopped waiting for TMF works (queued by {} {})",
                       work_word(w.kind), w.running ? "running" : "queued", w.queued_at.fn, where(w.queued_at)));
  }
  c.passed = true;
  c.barrier_at = at;
  c.returned = false;
}

void WorkAfterDisconnectChecker::returned(const Site& at, const ObjRef& conn) {
  Conn& c = conns_[conn.key];
  c.returned = true;
  c.returned_at = at;
}

void WorkAfterDisconnectChecker::conn_started(const Site&, const ObjRef& conn) {
  const auto it = conns_.find(conn.key);
  if (it == conns_.end()) return;
  it->second.passed = false;
  it->second.returned = false;
}

}  // namespace qedisim::checkers
