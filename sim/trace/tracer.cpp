#include "sim/trace/tracer.h"

namespace qedisim {

Tracer::SignalId Tracer::declare_int(std::string scope, std::string name, unsigned width_bits) {
  signals_.push_back(Signal{std::move(scope), std::move(name), width_bits == 0 ? 1 : width_bits, {}});
  last_value_.push_back(~std::uint64_t{0});
  last_text_.emplace_back();
  return static_cast<SignalId>(signals_.size() - 1);
}

Tracer::SignalId Tracer::declare_enum(std::string scope, std::string name, std::string enum_type,
                                      std::vector<std::string> names) {
  bool known = false;
  for (const auto& t : enum_types_) known = known || t.name == enum_type;
  unsigned width = 1;
  while ((std::size_t{1} << width) < names.size()) ++width;
  if (!known) enum_types_.push_back(EnumType{enum_type, std::move(names)});
  const SignalId id = declare_int(std::move(scope), std::move(name), width);
  signals_[id].enum_type = std::move(enum_type);
  return id;
}

Tracer::SignalId Tracer::declare_string(std::string scope, std::string name) {
  signals_.push_back(Signal{std::move(scope), std::move(name), 0, {}});
  last_value_.push_back(0);
  last_text_.emplace_back("\x01");  // never equal to a real first value
  return static_cast<SignalId>(signals_.size() - 1);
}

void Tracer::record(SignalId id, std::int64_t time_ns, std::uint64_t value, std::string_view text) {
  if (signals_[id].width == 0) {
    if (last_text_[id] == text) return;
    last_text_[id].assign(text);
    // Interned: a context's few states recur at every command.
    auto it = text_ids_.find(text);
    if (it == text_ids_.end()) {
      it = text_ids_.emplace(std::string(text), static_cast<std::uint32_t>(texts_.size())).first;
      texts_.emplace_back(text);
    }
    changes_.push_back(Change{time_ns, 0, id, it->second});
    return;
  }
  changes_.push_back(Change{time_ns, value, id, 0});  // set() filtered unchanged values
}

}  // namespace qedisim
