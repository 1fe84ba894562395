// Change-driven waveform recording. Model code declares signals once at
// elaboration and reports value changes; with tracing off every call is one
// branch. The VCD file itself is written by sim/trace/vcd_writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qedisim {

class Tracer {
 public:
  using SignalId = std::uint32_t;

  explicit Tracer(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }

  // scope is dotted: "hba.fw", "host.session0.conn0", "target.lun0".
  SignalId declare_int(std::string scope, std::string name, unsigned width_bits);
  SignalId declare_string(std::string scope, std::string name);
  // An integer-coded enum: `enum_type` names its value table (e.g. "tmf_state"),
  // `names[i]` is the text of value i. GTKWave shows the names through a
  // translate-filter file written next to the VCD.
  SignalId declare_enum(std::string scope, std::string name, std::string enum_type, std::vector<std::string> names);

  void set(SignalId id, std::int64_t time_ns, std::uint64_t value) {
    if (enabled_) record(id, time_ns, value, {});
  }
  void set_string(SignalId id, std::int64_t time_ns, std::string_view value) {
    if (enabled_) record(id, time_ns, 0, value);
  }

  struct Signal {
    std::string scope;
    std::string name;
    unsigned width = 0;     // 0 = string
    std::string enum_type;  // non-empty for enums
  };
  struct EnumType {
    std::string name;
    std::vector<std::string> values;
  };
  struct Change {
    std::int64_t time_ns;
    SignalId id;
    std::uint64_t value;
    std::uint32_t text;  // index into texts() for string signals
  };
  const std::vector<Signal>& signals() const { return signals_; }
  const std::vector<EnumType>& enum_types() const { return enum_types_; }
  const std::vector<Change>& changes() const { return changes_; }
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  void record(SignalId id, std::int64_t time_ns, std::uint64_t value, std::string_view text);

  bool enabled_;
  std::vector<Signal> signals_;
  std::vector<EnumType> enum_types_;
  std::vector<Change> changes_;
  std::vector<std::string> texts_;
  std::vector<std::uint64_t> last_value_;
  std::vector<std::string> last_text_;
};

}  // namespace qedisim
