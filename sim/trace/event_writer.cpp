#include "sim/trace/event_writer.h"

#include <fmt/format.h>

#include <charconv>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "sim/report/atomic_file.h"
#include "sim/scenario/vocabulary.h"

namespace qedisim {

namespace {

// The staging file of `path`, none for an empty path.
StagedFile staged(std::string path) { return path.empty() ? StagedFile() : StagedFile(std::move(path), 1 << 20); }

// "[    5.001000]"
std::string stamp(std::int64_t ns) {
  return fmt::format("[{:5}.{:06}]", ns / 1'000'000'000, (ns % 1'000'000'000) / 1000);
}

// Appends `v` in decimal.
void put_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Appends the trace timestamp (microseconds, ns precision) of `ns`; whole
// microseconds without a fraction.
void put_ts(std::string& out, std::int64_t ns) {
  put_int(out, ns / 1000);
  const int frac = static_cast<int>(ns % 1000);
  if (frac == 0) return;
  out += '.';
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
}

// Microseconds with ns precision, as the trace format wants them.
std::string micros(std::int64_t ns) {
  std::string out;
  put_ts(out, ns);
  return out;
}

// A JSON string literal.
std::string jstr(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// The timeline's process (group) of a context, by the context's name.
struct Group {
  int pid;
  const char* name;
};
Group group_of(std::string_view ctx) {
  auto starts = [&](std::string_view p) { return ctx.substr(0, p.size()) == p; };
  if (starts("queue/") || starts("eh/") || starts("scsi_tmf/") || starts("sg_reset")) return {1, "scsi-ml"};
  if (starts("qedi_thread/") || starts("tmf_wq/") || starts("irq/") || starts("probe")) return {3, "qedi"};
  if (starts("iscsid")) return {4, "iscsid"};
  if (starts("fw")) return {5, "firmware"};
  if (starts("target")) return {6, "target"};
  return {7, "kernel (timers, setup)"};
}

// The kernel's report header for an invariant, as dmesg shows it.
std::string report_title(const Violation& v) {
  switch (v.id) {
    case InvariantId::uaf:
      return fmt::format("BUG: KASAN: use-after-free in {}", v.function);
    case InvariantId::double_free:
      return fmt::format("BUG: KASAN: double-free in {}", v.function);
    case InvariantId::null_deref:
      return fmt::format("BUG: kernel NULL pointer dereference in {}", v.function);
    case InvariantId::leak:
      return fmt::format("kmemleak: unreferenced object {}", v.object);
    case InvariantId::data_race:
      return fmt::format("BUG: KCSAN: data-race in {}", v.function);
    case InvariantId::hung_task:
      return fmt::format("INFO: task {} blocked for more than the hung-task timeout", v.context);
    default:
      return fmt::format("WARNING: {} in {}", to_string(v.id), v.function);
  }
}

}  // namespace

LogFilter LogFilter::parse(const std::string& text) {
  LogFilter f;
  std::size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    const std::size_t comma = text.find(',', pos);
    const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    bool known = false;
    for (int i = 0; i < static_cast<int>(std::size(kEvSysNames)); ++i)
      if (item == kEvSysNames[i]) {
        f.layers.insert(static_cast<EvSys>(i));
        known = true;
      }
    if (!known && item.size() > 1 && item[0] == 's' && item.find_first_not_of("0123456789", 1) == std::string::npos) {
      f.sessions.insert(std::stoi(item.substr(1)));
      known = true;
    }
    if (!known)
      throw std::invalid_argument(
          fmt::format("unknown log filter '{}' (allowed: scsi, libiscsi, transport, qedi, iscsid, kernel, fw, "
                      "target, failpoint, checker, and sessions s0, s1, ...)",
                      item));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return f;
}

bool LogFilter::admits(EvSys sys, std::int32_t session) const {
  if (!layers.empty() && !layers.count(sys) && sys != EvSys::checker) return false;
  if (!sessions.empty() && session >= 0 && !sessions.count(session)) return false;
  return true;
}

EventWriter::EventWriter(std::string log_path, LogFilter filter, std::string trace_path)
    : EventSink(!trace_path.empty()),  // read before trace_path is moved into trace_
      log_(staged(std::move(log_path))),
      trace_(staged(std::move(trace_path))),
      filter_(std::move(filter)) {
  if (trace_) trace_.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
}

void EventWriter::abandon() {
  log_.abandon();
  trace_.abandon();
}

EventWriter::Track& EventWriter::track(std::string_view ctx) {
  // Context names are stable strings: the last one is nearly always the next.
  if (last_track_ && ctx.data() == last_ctx_.data() && ctx.size() == last_ctx_.size()) return *last_track_;
  const auto it = tracks_.find(ctx);
  if (it != tracks_.end()) {
    last_ctx_ = ctx;
    last_track_ = &it->second;
    return it->second;
  }
  const Group g = group_of(ctx);
  Track t;
  t.pid = g.pid;
  t.tid = ++next_tid_[g.pid];
  if (trace_) {
    if (t.tid == 1)
      trace_event(fmt::format(R"({{"ph":"M","name":"process_name","pid":{},"tid":0,"args":{{"name":{}}}}})", g.pid,
                              jstr(g.name)));
    trace_event(fmt::format(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":{}}}}})", t.pid, t.tid,
                            jstr(ctx)));
  }
  t.tail = fmt::format(R"(,"pid":{},"tid":{}}})", t.pid, t.tid);
  Track& added = tracks_.emplace(std::string(ctx), t).first->second;
  last_ctx_ = ctx;
  last_track_ = &added;
  return added;
}

void EventWriter::trace_event(const std::string& json) {
  flush_pending_b();
  if (!first_trace_event_) line_ += ",\n";
  line_ += json;
  write_line();
}

// Slice, flow and counter names are string literals (kernel function names,
// wait queue names): each is escaped once, keyed by its address.
const std::string& EventWriter::escaped(std::string_view literal) {
  auto it = names_.find(literal.data());
  if (it == names_.end()) it = names_.emplace(literal.data(), jstr(literal)).first;
  return it->second;
}

void EventWriter::write_line() {
  first_trace_event_ = false;
  if (line_.size() >= (1u << 20)) flush_trace_buffer();
}

void EventWriter::flush_trace_buffer() {
  trace_.write(line_);
  line_.clear();
}

void EventWriter::flush_pending_b() {
  if (!pending_.track) return;
  if (!first_trace_event_) line_ += ",\n";
  line_ += R"({"ph":"B","name":)";
  line_ += *pending_.name;
  line_ += R"(,"ts":)";
  put_ts(line_, pending_.ns);
  line_ += pending_.track->tail;
  pending_.track = nullptr;
  write_line();
}

void EventWriter::log_line(std::int64_t ns, EvSys sys, std::string_view ctx, std::string_view fn,
                           std::string_view text) {
  // Formatted into a buffer and written through the staged file, whose
  // failures surface at commit(): fmt::print to the stream threw inside a
  // SystemC process (a full disk was an internal error, not exit 2).
  log_scratch_.clear();
  fmt::format_to(std::back_inserter(log_scratch_), "{} {:<9} {} {}: {}\n", stamp(ns), ev_sys_name(sys), ctx, fn, text);
  log_.write(log_scratch_);
}

void EventWriter::emit(const Ev& e) {
  if (e.kind == EvKind::log) {
    if (log_ && filter_.admits(e.sys, e.session)) log_line(e.ns, e.sys, e.ctx, e.fn, e.text);
    if (trace_ && (e.sys == EvSys::failpoint)) {
      Track& t = track(e.ctx);
      trace_event(fmt::format(R"({{"ph":"i","s":"t","name":{},"cat":"failpoint","ts":{},"pid":{},"tid":{}}})",
                              jstr(e.text), micros(e.ns), t.pid, t.tid));
    }
    return;
  }
  if (!trace_) return;
  Track& t = track(e.ctx);
  t.last_ns = e.ns;
  switch (e.kind) {
    case EvKind::begin: {
      flush_pending_b();
      ++t.depth;
      pending_ = {&t, &escaped(e.text), e.ns};
      break;
    }
    case EvKind::end:
      if (t.depth == 0) break;  // a slice begun before the trace started
      --t.depth;
      if (pending_.track == &t) {  // a leaf: one complete event
        if (!first_trace_event_) line_ += ",\n";
        line_ += R"({"ph":"X","name":)";
        line_ += *pending_.name;
        line_ += R"(,"ts":)";
        put_ts(line_, pending_.ns);
        line_ += R"(,"dur":)";
        put_ts(line_, e.ns - pending_.ns);
        pending_.track = nullptr;
      } else {
        flush_pending_b();
        line_ += R"(,
{"ph":"E","ts":)";
        put_ts(line_, e.ns);
      }
      line_ += t.tail;
      write_line();
      break;
    case EvKind::flow_out:
    case EvKind::flow_in:
      flush_pending_b();
      if (!first_trace_event_) line_ += ",\n";
      line_ += e.kind == EvKind::flow_out ? R"({"ph":"s","name":)" : R"({"ph":"f","bp":"e","name":)";
      line_ += escaped(e.text);
      line_ += R"(,"cat":"flow","id":)";
      put_int(line_, static_cast<std::int64_t>(e.id));
      line_ += R"(,"ts":)";
      put_ts(line_, e.ns);
      line_ += t.tail;
      write_line();
      break;
    case EvKind::counter:
      flush_pending_b();
      if (!first_trace_event_) line_ += ",\n";
      line_ += R"({"ph":"C","name":)";
      line_ += escaped(e.text);
      line_ += R"(,"args":{"value":)";
      put_int(line_, e.value);
      line_ += R"(},"ts":)";
      put_ts(line_, e.ns);
      line_ += R"(,"pid":)";
      put_int(line_, t.pid);
      line_ += R"(,"tid":0})";
      write_line();
      break;
    case EvKind::log:
      break;
  }
}

void EventWriter::violation(const Violation& v) {
  const bool warning = is_warning(v.id);
  if (log_ && filter_.admits(EvSys::checker, -1)) {
    const std::string rule(66, '=');
    log_line(v.time_ns, EvSys::checker, v.context, v.function, rule);
    log_line(v.time_ns, EvSys::checker, v.context, v.function, report_title(v));
    log_line(v.time_ns, EvSys::checker, v.context, v.function,
             fmt::format("{} {}: {}: {}", warning ? "warning" : "violation", to_string(v.id), v.object, v.message));
    log_line(v.time_ns, EvSys::checker, v.context, v.function, rule);
  }
  if (trace_) {
    Track& t = track(v.context);
    trace_event(fmt::format(
        R"({{"ph":"i","s":"g","name":{},"cat":"{}","ts":{},"pid":{},"tid":{},"args":{{"object":{},"message":{}}}}})",
        jstr(fmt::format("{} {}", to_string(v.id), v.function)), warning ? "warning" : "violation", micros(v.time_ns),
        t.pid, t.tid, jstr(v.object), jstr(v.message)));
  }
}

void EventWriter::finish(std::int64_t end_ns) {
  if (trace_) {
    flush_pending_b();
    for (auto& [name, t] : tracks_)
      while (t.depth > 0) {
        --t.depth;
        trace_event(fmt::format(R"({{"ph":"E","ts":{},"pid":{},"tid":{}}})", micros(end_ns), t.pid, t.tid));
      }
    line_ += "\n]}\n";
    flush_trace_buffer();
  }
  log_.commit();
  trace_.commit();
}

}  // namespace qedisim
