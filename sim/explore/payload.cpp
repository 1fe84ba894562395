#include "sim/explore/payload.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <utility>

#include "sim/scenario/vocabulary.h"

namespace qedisim {

namespace {

constexpr std::string_view kMagic = "qedisim-run-1";

class Writer {
 public:
  void word(std::uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void text(std::string_view s) {
    word(s.size());
    out_.append(s);
  }
  void counts(const std::map<std::string, std::uint64_t>& m) {
    word(m.size());
    for (const auto& [k, n] : m) {
      text(k);
      word(n);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool word(std::uint64_t& v) {
    if (in_.size() < sizeof v) return false;
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return true;
  }
  bool text(std::string& s) {
    std::uint64_t n = 0;
    if (!word(n) || n > in_.size()) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool counts(std::map<std::string, std::uint64_t>& m) {
    std::uint64_t n = 0;
    if (!word(n)) return false;
    std::string key;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t v = 0;
      if (!text(key) || !word(v)) return false;
      m.emplace_hint(m.end(), key, v);  // written in order
    }
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string encode_payload(const RunResult& r, const std::vector<std::string>& fault_kinds) {
  Writer w;
  w.text(kMagic);
  w.text(r.end_reason);
  w.text(to_string(r.eh_max_level));
  w.word(r.violations.size());
  for (const auto& v : r.violations) {
    w.text(to_string(v.id));
    w.word(static_cast<std::uint64_t>(v.time_ns));
    w.text(v.context);
    w.text(v.object);
    w.text(v.function);
    w.text(v.message);
    w.word(v.count);
  }
  w.counts(r.points_reached);
  w.counts(r.tmf_transitions);
  w.counts(r.session_transitions);
  w.word(fault_kinds.size());
  for (const auto& k : fault_kinds) w.text(k);
  return w.take();
}

bool decode_payload(std::string_view bytes, RunSummary& out, std::string& end_reason) {
  RunSummary s;  // `out` is left as it was unless the whole payload reads
  s.run = out.run;
  s.seed = out.seed;
  std::string reason;
  Reader in(bytes);
  std::string magic;
  std::uint64_t n = 0;
  if (!in.text(magic) || magic != kMagic || !in.text(reason) || !in.text(s.eh_max_level) || !in.word(n)) return false;
  std::string id;
  for (std::uint64_t i = 0; i < n; ++i) {
    Violation v;
    std::uint64_t time_ns = 0;
    if (!in.text(id) || !in.word(time_ns) || !in.text(v.context) || !in.text(v.object) || !in.text(v.function) ||
        !in.text(v.message) || !in.word(v.count))
      return false;
    const auto known = enum_from_string<InvariantId>(id);
    if (!known) return false;
    v.id = *known;
    v.time_ns = static_cast<std::int64_t>(time_ns);
    s.violations.push_back(std::move(v));
  }
  if (!in.counts(s.points_reached) || !in.counts(s.tmf_transitions) || !in.counts(s.session_transitions) || !in.word(n))
    return false;
  for (std::uint64_t i = 0; i < n; ++i)
    if (!in.text(s.fault_kinds.emplace_back())) return false;
  if (!in.done()) return false;
  out = std::move(s);
  end_reason = std::move(reason);
  return true;
}

}  // namespace qedisim
