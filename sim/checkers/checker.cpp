#include "sim/checkers/checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <unordered_map>

#include "common/duration.h"

namespace qedisim::checkers {

namespace {
// Every name interned in this process: the texts in a deque (their
// addresses never move), found by text and, for literals, by address.
struct Names {
  std::deque<std::string> texts;
  std::unordered_map<std::string_view, const std::string*> by_text;  // lookup only
  std::unordered_map<const char*, const std::string*> by_literal;    // lookup only
};
// Never destroyed: no exit handler for a forked run to register
// (libiscsi.cpp, session_slab).
Names& names() {
  static auto* n = new Names();
  return *n;
}
}  // namespace

const std::string Name::kEmpty;

Name::Name(std::string_view text) {
  if (text.empty()) return;
  Names& n = names();
  const auto it = n.by_text.find(text);
  if (it != n.by_text.end()) {
    s_ = it->second;
    return;
  }
  s_ = &n.texts.emplace_back(text);
  n.by_text.emplace(*s_, s_);
}

Name::Cached Name::literal_cache_[256];

Name Name::of_literal_slow(const char* text) {
  Cached& c = cached(text);
  Name name;
  Names& n = names();
  const auto it = n.by_literal.find(text);
  if (it != n.by_literal.end()) {
    name.s_ = it->second;
  } else {
    name = Name(text);
    n.by_literal.emplace(text, name.s_);
  }
  c = Cached{text, name.s_};
  return name;
}

std::string where(const Site& s) { return fmt::format("({}, {})", s.ctx, format_seconds(s.ns)); }
std::string by(const Site& s) { return fmt::format("{}, {}, {}", s.fn, s.ctx, format_seconds(s.ns)); }
std::string secs(std::int64_t ns) { return format_seconds(ns); }

void Findings::add(Violation v) {
  if (!wants(v.id)) return;
  std::vector<Violation>& list = is_warning(v.id) ? warnings_ : violations_;
  const auto key = std::make_tuple(v.id, v.object.substr(0, v.object.find(' ')), v.function);
  auto it = kept_.find(key);
  if (it == kept_.end()) it = kept_.emplace(key, std::make_pair(std::size_t{0}, std::size_t{0})).first;
  auto& [kept, last] = it->second;
  if (kept >= keep_per_key_) {
    list[last].count += v.count;
    return;
  }
  ++kept;
  last = list.size();
  if (on_add_) on_add_(v);
  list.push_back(std::move(v));
}

std::vector<Violation> Findings::sorted(std::vector<Violation> v) {
  std::stable_sort(v.begin(), v.end(), [](const Violation& a, const Violation& b) { return a.time_ns < b.time_ns; });
  return v;
}

std::vector<Violation> Findings::violations() const { return sorted(violations_); }
std::vector<Violation> Findings::warnings() const { return sorted(warnings_); }

void Checker::report(const Site& at, std::string object, std::string function, std::string message) {
  Violation v;
  v.id = id_;
  v.time_ns = at.ns;
  v.context = at.ctx.str();
  v.object = std::move(object);
  v.function = std::move(function);
  v.message = std::move(message);
  out_->add(std::move(v));
}

}  // namespace qedisim::checkers
