// Change-driven waveform recording: the TraceSink the models report to
// (common/trace_sink.h), keeping every change in memory. The VCD file
// itself is written by sim/trace/vcd_writer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/trace_sink.h"

namespace qedisim {

class Tracer final : public TraceSink {
 public:
  explicit Tracer(bool enabled) : TraceSink(enabled) {}

  SignalId declare_int(std::string scope, std::string name, unsigned width_bits) override;
  SignalId declare_string(std::string scope, std::string name) override;
  // GTKWave shows an enum's names through a translate-filter file written
  // next to the VCD.
  SignalId declare_enum(std::string scope, std::string name, std::string enum_type,
                        std::vector<std::string> names) override;

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
  struct Change {  // 24 bytes, no padding: a long traced run keeps millions
    std::int64_t time_ns;
    std::uint64_t value;
    SignalId id;
    std::uint32_t text;  // index into texts() for string signals
  };
  const std::vector<Signal>& signals() const { return signals_; }
  const std::vector<EnumType>& enum_types() const { return enum_types_; }
  const std::vector<Change>& changes() const { return changes_; }
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  void record(SignalId id, std::int64_t time_ns, std::uint64_t value, std::string_view text) override;

  std::vector<Signal> signals_;
  std::vector<EnumType> enum_types_;
  std::vector<Change> changes_;
  std::vector<std::string> texts_;  // distinct texts, in order of first use
  std::map<std::string, std::uint32_t, std::less<>> text_ids_;
  std::vector<std::string> last_text_;
};

}  // namespace qedisim
