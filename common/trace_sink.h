// How a model reports a waveform value. Model code declares signals once at
// elaboration and reports value changes; sim/trace implements it (and
// writes the VCD). With tracing off every `set` is one branch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qedisim {

class TraceSink {
 public:
  using SignalId = std::uint32_t;

  explicit TraceSink(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }

  // scope is dotted: "hba.fw", "host.session0.conn0", "target.lun0".
  virtual SignalId declare_int(std::string scope, std::string name, unsigned width_bits) = 0;
  virtual SignalId declare_string(std::string scope, std::string name) = 0;
  // An integer-coded enum: `enum_type` names its value table (e.g. "tmf_state"),
  // `names[i]` is the text of value i.
  virtual SignalId declare_enum(std::string scope, std::string name, std::string enum_type,
                                std::vector<std::string> names) = 0;

  void set(SignalId id, std::int64_t time_ns, std::uint64_t value) {
    // An unchanged value (most of a sample's) stops here, before the virtual call.
    if (enabled_ && last_value_[id] != value) {
      last_value_[id] = value;
      record(id, time_ns, value, {});
    }
  }
  void set_string(SignalId id, std::int64_t time_ns, std::string_view value) {
    if (enabled_) record(id, time_ns, 0, value);
  }

 protected:
  ~TraceSink() = default;
  // A value at a time; only called while enabled, for an integer only when
  // it changed.
  virtual void record(SignalId id, std::int64_t time_ns, std::uint64_t value, std::string_view text) = 0;
  // By signal, the last integer value recorded: the implementation adds an
  // entry at each declare.
  std::vector<std::uint64_t> last_value_;

 private:
  bool enabled_;
};

}  // namespace qedisim
