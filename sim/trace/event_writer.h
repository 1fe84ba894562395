// The --log and --trace outputs of a run, from the model's event stream
// (common/event_sink.h):
//  - the log: one dmesg/ftrace-style line per event, "[    5.001000]"
//    timestamps, the layer, the context and the kernel function, the
//    kernel's own texts where it prints, failpoints, actions, and each
//    violation in the shape the kernel reports it (KASAN, kmemleak, ...);
//    filtered by layer and session (`--log-filter qedi,libiscsi,s0`);
//  - the trace: Chrome trace-event JSON (Perfetto UI, chrome://tracing):
//    one track per context grouped by layer, a slice per kernel function,
//    flow arrows for queue_work, wake_up and doorbell -> CQE, counters,
//    instant events for failpoints and violations.
// Both stream to "<path>.tmp.<pid>" and appear under their name at finish().
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/event_sink.h"
#include "sim/checkers/violation.h"
#include "sim/report/atomic_file.h"

namespace qedisim {

// `--log-filter`: layers (scsi, libiscsi, transport, qedi, iscsid, kernel,
// fw, target, failpoint, checker) and sessions (s0, s1, ...), comma-separated;
// empty = everything. Throws std::invalid_argument naming the allowed values.
struct LogFilter {
  std::set<EvSys> layers;
  std::set<std::int32_t> sessions;
  static LogFilter parse(const std::string& text);
  bool admits(EvSys sys, std::int32_t session) const;
};

class EventWriter : public EventSink {
 public:
  // Empty paths: that output is off. Throws OutputError when a file cannot be opened.
  EventWriter(std::string log_path, LogFilter filter, std::string trace_path);
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  void emit(const Ev& e) override;
  // A checker's finding, at its time (log: the kernel's report shape; trace: an instant).
  void violation(const Violation& v);
  // Closes open slices at `end_ns`, completes both files and renames them.
  void finish(std::int64_t end_ns);
  // A run cut short: the temporaries go, nothing appears.
  void abandon();

 private:
  struct Track {
    int pid = 0;
    int tid = 0;
    int depth = 0;
    std::int64_t last_ns = 0;
    std::string tail;  // ,"pid":P,"tid":T}
  };
  const std::string& escaped(std::string_view literal);
  Track& track(std::string_view ctx);
  void log_line(std::int64_t ns, EvSys sys, std::string_view ctx, std::string_view fn, std::string_view text);
  void trace_event(const std::string& json);
  void write_line();          // an event was appended to line_ (after its separator)
  void flush_trace_buffer();  // writes line_ out
  void flush_pending_b();     // writes the held-back "B" of pending_, if any

  StagedFile log_;    // none without --log
  StagedFile trace_;  // none without --trace
  LogFilter filter_;
  std::map<std::string, Track, std::less<>> tracks_;
  std::map<int, int> next_tid_;  // per pid
  std::string_view last_ctx_;
  Track* last_track_ = nullptr;
  std::unordered_map<const char*, std::string> names_;  // escaped slice names
  std::string line_;                                    // trace events not yet written out
  std::string log_scratch_;                             // one log line, reused
  bool first_trace_event_ = true;
  // The last slice begun, held back until the next trace event: when that is
  // the slice's own end (a leaf call, most of them), one "X" replaces the
  // "B"/"E" pair; otherwise the "B" is written first, where it belongs.
  struct Pending {
    Track* track = nullptr;
    const std::string* name = nullptr;  // escaped
    std::int64_t ns = 0;
  } pending_;
};

}  // namespace qedisim
