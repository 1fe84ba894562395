// What happened, for the kernel-style text log (`--log`) and the timeline
// (`--trace`): one record per event. Models emit; sim/trace writes. With no
// sink attached nothing is formatted (one pointer test per event).
#pragma once

#include <cstdint>
#include <string_view>

namespace qedisim {

// The layer an event comes from (the log's filter names).
enum class EvSys : std::uint8_t { scsi, libiscsi, transport, qedi, iscsid, kernel, fw, target, failpoint, checker };
inline constexpr const char* kEvSysNames[] = {"scsi",   "libiscsi", "transport", "qedi",      "iscsid",
                                              "kernel", "fw",       "target",    "failpoint", "checker"};
inline const char* ev_sys_name(EvSys s) { return kEvSysNames[static_cast<int>(s)]; }

enum class EvKind : std::uint8_t {
  log,       // a printk-style line (`text`)
  begin,     // a slice starts on the context's track (`text` names it)
  end,       // the innermost slice of the context's track ends
  flow_out,  // a hand-off leaves this context (`id`): queue_work, wake_up, doorbell, CQE
  flow_in,   // the hand-off `id` arrives in this context
  counter,   // `text` = counter name, `value`
};

struct Ev {
  EvKind kind = EvKind::log;
  EvSys sys = EvSys::kernel;
  std::int64_t ns = 0;
  std::int32_t session = -1;  // -1: no session
  std::string_view ctx;       // "qedi_thread/0", "eh/host0", "fw", "target"
  std::string_view fn;        // the kernel function, "-" when none
  std::string_view text;
  std::uint64_t id = 0;
  std::int64_t value = 0;
};

class EventSink {
 public:
  // `timeline`: slices, flows and counters are wanted too (not only log lines).
  explicit EventSink(bool timeline) : timeline_(timeline) {}
  bool timeline() const { return timeline_; }
  virtual void emit(const Ev& e) = 0;

 protected:
  ~EventSink() = default;

 private:
  bool timeline_;
};

}  // namespace qedisim
