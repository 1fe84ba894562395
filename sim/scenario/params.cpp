#include "sim/scenario/params.h"

#include <fmt/format.h>

#include <stdexcept>
#include <type_traits>

namespace qedisim {

namespace {

constexpr ParamKind kind_of(const Duration*) { return ParamKind::duration; }
constexpr ParamKind kind_of(const ModelParams::Count*) { return ParamKind::count; }

}  // namespace

const std::vector<ParamInfo>& param_catalog() {
  static const std::vector<ParamInfo> catalog = [] {
    std::vector<ParamInfo> v;
#define QEDISIM_PARAM_INFO(member, key, kind, def, min, meaning) \
  v.push_back(ParamInfo{key, kind_of(static_cast<const kind*>(nullptr)), meaning, min});
    QEDISIM_PARAMS(QEDISIM_PARAM_INFO)
#undef QEDISIM_PARAM_INFO
    return v;
  }();
  return catalog;
}

const ParamInfo* find_param(std::string_view key) {
  for (const auto& p : param_catalog())
    if (p.key == key) return &p;
  return nullptr;
}

namespace {
void assign(Duration& field, Duration v) { field = v; }
void assign(Duration&, std::uint64_t) { throw std::logic_error("count given for a duration parameter"); }
void assign(ModelParams::Count& field, std::uint64_t v) { field = v; }
void assign(ModelParams::Count&, Duration) { throw std::logic_error("duration given for a count parameter"); }

std::string show(Duration d) { return format_duration(d); }
std::string show(ModelParams::Count c) { return std::to_string(c); }
}  // namespace

void set_param(ModelParams& p, std::string_view key, Duration value) {
#define QEDISIM_PARAM_SET(member, k, kind, def, min, meaning) \
  if (key == k) return assign(p.member, value);
  QEDISIM_PARAMS(QEDISIM_PARAM_SET)
#undef QEDISIM_PARAM_SET
  throw std::logic_error(fmt::format("unknown parameter {}", key));
}

void set_param(ModelParams& p, std::string_view key, std::uint64_t value) {
#define QEDISIM_PARAM_SET(member, k, kind, def, min, meaning) \
  if (key == k) return assign(p.member, value);
  QEDISIM_PARAMS(QEDISIM_PARAM_SET)
#undef QEDISIM_PARAM_SET
  throw std::logic_error(fmt::format("unknown parameter {}", key));
}

Duration duration_param(const ModelParams& p, std::string_view key) {
  Duration out{};
  bool found = false;
  auto take = [&](auto value) {
    if constexpr (std::is_same_v<decltype(value), Duration>) {
      out = value;
      found = true;
    }
  };
#define QEDISIM_PARAM_GET(member, k, kind, def, min, meaning) \
  if (key == k) take(p.member);
  QEDISIM_PARAMS(QEDISIM_PARAM_GET)
#undef QEDISIM_PARAM_GET
  if (!found) throw std::logic_error(fmt::format("{} is not a duration parameter", key));
  return out;
}

std::string param_value_string(const ModelParams& p, std::string_view key) {
#define QEDISIM_PARAM_GET(member, k, kind, def, min, meaning) \
  if (key == k) return show(p.member);
  QEDISIM_PARAMS(QEDISIM_PARAM_GET)
#undef QEDISIM_PARAM_GET
  throw std::logic_error(fmt::format("unknown parameter {}", key));
}

}  // namespace qedisim
