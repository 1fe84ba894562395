// Scenario format loader (v1, and v2's random failpoint actions): yaml-cpp
// node tree -> typed Scenario.
// Every rejection names the file, the 1-based line and column of the
// offending node and, where a closed set exists, the allowed values.
#include "sim/scenario/loader.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "sim/failpoints/catalog.h"

namespace qedisim {

namespace {
// Messages quote the user's text; bytes that would garble a terminal are
// shown as \xNN.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  return out;
}
}  // namespace

ScenarioError::ScenarioError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", file, line, column, printable(message))),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(printable(message)) {}

namespace {

// Limits that keep a hostile file from asking for absurd models.
constexpr std::uint64_t kMaxSessions = 64;
constexpr std::uint64_t kMaxLuns = 256;
// A session's task pool: ISCSI_TOTAL_CMDS_MIN .. ISCSI_TOTAL_CMDS_MAX of 5.12 (include/scsi/libiscsi.h).
constexpr std::uint64_t kMinCmdsMax = 16;
constexpr std::uint64_t kMaxCmdsMax = 4096;
constexpr std::uint64_t kMaxOps = 1'000'000'000;
constexpr std::uint64_t kMaxDepth = 4096;
constexpr std::uint64_t kMaxSize = 16ull << 20;
constexpr std::size_t kMaxNameLength = 64;

std::string join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Scenario load(const std::string& text);

 private:
  [[noreturn]] void fail(const YAML::Node& at, const std::string& msg) const {
    const auto m = at.Mark();
    fail_at(m.line + 1, m.column + 1, msg);
  }
  [[noreturn]] void fail_at(int line, int column, const std::string& msg) const {
    throw ScenarioError(file_, line < 1 ? 1 : line, column < 1 ? 1 : column, msg);
  }

  // A mapping's entries by key, checked for duplicates and unknown keys.
  struct MapView {
    const YAML::Node node;
    std::vector<std::pair<YAML::Node, YAML::Node>> entries;  // key, value
    const std::pair<YAML::Node, YAML::Node>* find(std::string_view key) const {
      for (const auto& e : entries)
        if (e.first.Scalar() == key) return &e;
      return nullptr;
    }
    std::optional<YAML::Node> get(std::string_view key) const {
      const auto* e = find(key);
      if (!e) return std::nullopt;
      return e->second;
    }
  };
  MapView map_of(const YAML::Node& n, std::string_view what, const std::vector<std::string_view>& allowed) const;
  const YAML::Node& require(const MapView& m, std::string_view key, std::string_view what) const;

  std::string scalar(const YAML::Node& n, std::string_view what) const;
  std::uint64_t uint(const YAML::Node& n, std::string_view what, std::uint64_t min, std::uint64_t max) const;
  Duration duration(const YAML::Node& n, std::string_view what) const;
  std::uint64_t size(const YAML::Node& n, std::string_view what) const;
  bool boolean(const YAML::Node& n, std::string_view what) const;
  template <typename E>
  E enumeration(const YAML::Node& n, std::string_view what) const;
  Patch patch_id(const YAML::Node& n) const;
  void require_sequence(const YAML::Node& n, std::string_view what) const;

  FixSet fixes(const YAML::Node& n) const;
  void params(const YAML::Node& n, Scenario& s) const;
  void sessions(const YAML::Node& n, Scenario& s) const;
  void workload(const YAML::Node& n, Scenario& s) const;
  void failpoints(const YAML::Node& n, Scenario& s) const;
  Match match(const YAML::Node& n, const PointInfo& point, const Scenario& s) const;
  FailAction fail_action(const YAML::Node& n, const PointInfo& point, int schema) const;
  void needs_v2(const YAML::Node& n, int schema, std::string_view what) const;
  double probability(const YAML::Node& n, std::string_view what) const;
  void actions(const YAML::Node& n, Scenario& s) const;
  ActionArgs action_args(const YAML::Node& n, ActionKind kind, const Scenario& s) const;
  void expect(const YAML::Node& n, Scenario& s, const YAML::Node& root) const;
  std::vector<InvariantId> invariant_list(const YAML::Node& n, std::string_view what) const;

  std::uint32_t session_index(const YAML::Node& n, const Scenario& s) const;
  std::uint32_t lun_index(const YAML::Node& n, const Scenario& s, std::optional<std::uint32_t> session) const;

  int count_documents(const std::string& text) const;
  void check_nesting(const std::string& text) const;

  static SourceMark mark(const YAML::Node& n) { return SourceMark{n.Mark().line + 1, n.Mark().column + 1}; }

  std::string file_;
};

namespace {
// Counts document starts, remembering where the second one begins.
struct DocumentCounter : YAML::EventHandler {
  int documents = 0;
  YAML::Mark second;
  void OnDocumentStart(const YAML::Mark& m) override {
    if (++documents == 2) second = m;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};
}  // namespace

// Nesting deeper than any scenario needs is rejected before yaml-cpp sees
// it: its recursive parser reports such input only as "bad file".
void Loader::check_nesting(const std::string& text) const {
  constexpr int kMaxDepth = 64;
  int depth = 0;
  int line = 1;
  int column = 0;
  char quote = 0;
  bool comment = false;
  for (char c : text) {
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#') comment = true;
    if (c == '\'' || c == '"') quote = c;
    if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        fail_at(line, column, fmt::format("nesting deeper than {} levels (a scenario needs at most 4)", kMaxDepth));
    }
    if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  // Block nesting: indentation deeper than 2 * kMaxDepth spaces.
  line = 1;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::size_t indent = text.find_first_not_of(' ', start) - start;
    if (indent > 2 * static_cast<std::size_t>(kMaxDepth) && start + indent < text.size() &&
        text[start + indent] != '\n')
      fail_at(line, static_cast<int>(indent) + 1,
              fmt::format("nesting deeper than {} levels (a scenario needs at most 4)", kMaxDepth));
    if (end == std::string::npos) break;
    start = end + 1;
    ++line;
  }
}

// " (did you mean 'X'?)" for the candidate nearest to `v` by edit
// distance, when it is near enough to be a typo; "" otherwise.
std::string did_you_mean(std::string_view v, const std::vector<std::string_view>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string_view best;
  std::size_t best_d = std::max<std::size_t>(1, std::min<std::size_t>(3, v.size() / 3)) + 1;
  for (std::string_view c : candidates) {
    const std::size_t d = distance(v, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

// The names of a ", "-joined list.
std::vector<std::string_view> split_names(std::string_view joined) {
  std::vector<std::string_view> out;
  while (!joined.empty()) {
    const std::size_t comma = joined.find(", ");
    out.push_back(joined.substr(0, comma));
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 2);
  }
  return out;
}

// A YAML syntax error on a line indented with a tab says so.
std::string yaml_error_text(const std::string& text, int line, const std::string& msg) {
  std::istringstream in(text);
  std::string l;
  for (int i = 1; i <= line && std::getline(in, l); ++i) {
  }
  const std::size_t first = l.find_first_not_of(" \t");
  if (l.substr(0, first).find('\t') != std::string::npos)
    return fmt::format("YAML syntax error: {}; line {} is indented with a tab (YAML indents with spaces only)", msg,
                       line);
  return fmt::format("YAML syntax error: {}", msg);
}

std::vector<std::string_view> point_names() {
  std::vector<std::string_view> out;
  for (const auto& p : point_catalog()) out.push_back(p.name);
  return out;
}

int Loader::count_documents(const std::string& text) const {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  try {
    // Two are enough to know the file is not one document.
    while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
    }
  } catch (const YAML::Exception& e) {
    fail_at(e.mark.line + 1, e.mark.column + 1, yaml_error_text(text, e.mark.line + 1, e.msg));
  }
  if (counter.documents > 1)
    fail_at(counter.second.line + 1, counter.second.column + 1,
            "more than one YAML document in the file (allowed: one)");
  return counter.documents;
}

Loader::MapView Loader::map_of(const YAML::Node& n, std::string_view what,
                               const std::vector<std::string_view>& allowed) const {
  if (!n.IsMap()) fail(n, fmt::format("{} must be a mapping (allowed keys: {})", what, join(allowed)));
  MapView view{n, {}};
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) fail(key, fmt::format("{}: keys must be plain names (allowed: {})", what, join(allowed)));
    const std::string& k = key.Scalar();
    if (view.find(k)) {
      const auto* first = view.find(k);
      fail(key, fmt::format("duplicate key '{}' in {} (first at line {})", k, what, first->first.Mark().line + 1));
    }
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      fail(key,
           fmt::format("unknown key '{}' in {}{} (allowed: {})", k, what, did_you_mean(k, allowed), join(allowed)));
    view.entries.emplace_back(key, it->second);
  }
  return view;
}

const YAML::Node& Loader::require(const MapView& m, std::string_view key, std::string_view what) const {
  const auto* e = m.find(key);
  if (!e) fail(m.node, fmt::format("{} is missing required key '{}'", what, key));
  return e->second;
}

namespace {

// The scalar forms the loader accepts, matched by hand: std::regex compiled
// each pattern on first use at ~0.3 M instructions, paid again by every
// process (~7 % of a small run's start-up).
bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
// [+]?[0-9]+
bool is_uint_text(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  return is_digits(s);
}
// ([0-9]+)(?:\.([0-9]+))?(ns|us|ms|s): the whole part, the fraction (maybe
// empty) and the unit.
struct DurationText {
  std::string_view whole, frac, unit;
};
std::optional<DurationText> duration_text(std::string_view s) {
  DurationText out;
  std::size_t unit = 1;
  if (s.size() >= 2 && s.back() == 's' && (s[s.size() - 2] == 'n' || s[s.size() - 2] == 'u' || s[s.size() - 2] == 'm'))
    unit = 2;
  if (s.empty() || s.back() != 's' || s.size() <= unit) return std::nullopt;
  out.unit = s.substr(s.size() - unit);
  std::string_view number = s.substr(0, s.size() - unit);
  const std::size_t dot = number.find('.');
  out.whole = number.substr(0, dot);
  if (dot != std::string_view::npos) {
    out.frac = number.substr(dot + 1);
    if (!is_digits(out.frac)) return std::nullopt;
  }
  if (!is_digits(out.whole)) return std::nullopt;
  return out;
}
// [0-9]+(\.[0-9]+)?|\.[0-9]+
bool is_decimal_text(std::string_view s) {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return is_digits(s);
  return (dot == 0 || is_digits(s.substr(0, dot))) && is_digits(s.substr(dot + 1));
}
// [a-z0-9-]+
bool is_name_text(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

std::string Loader::scalar(const YAML::Node& n, std::string_view what) const {
  if (!n.IsScalar()) {
    const char* got = n.IsMap() ? "a mapping" : n.IsSequence() ? "a list" : "nothing (null)";
    fail(n, fmt::format("{} must be a single value, got {}", what, got));
  }
  return n.Scalar();
}

std::uint64_t Loader::uint(const YAML::Node& n, std::string_view what, std::uint64_t min, std::uint64_t max) const {
  const std::string v = scalar(n, what);
  if (!v.empty() && v[0] == '-' && is_uint_text(std::string_view(v).substr(1)))
    fail(n, fmt::format("{} must not be negative, got {} (allowed: {}..{})", what, v, min, max));
  if (!is_uint_text(v))
    fail(n, fmt::format("{} must be a whole number, got '{}' (allowed: {}..{})", what, v, min, max));
  std::uint64_t out = 0;
  for (char c : v) {
    if (c == '+') continue;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (out > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
      fail(n, fmt::format("{} is out of range: {} (allowed: {}..{})", what, v, min, max));
    out = out * 10 + d;
  }
  if (out < min || out > max) fail(n, fmt::format("{} is out of range: {} (allowed: {}..{})", what, v, min, max));
  return out;
}

Duration Loader::duration(const YAML::Node& n, std::string_view what) const {
  const std::string v = scalar(n, what);
  static const std::string kAllowed = "a number with unit ns, us, ms or s, e.g. 1.5ms";
  if (!v.empty() && v[0] == '-') fail(n, fmt::format("{} must not be negative, got '{}' ({})", what, v, kAllowed));
  const std::optional<DurationText> m = duration_text(v);
  if (!m) fail(n, fmt::format("{} is not a duration: '{}' (allowed: {})", what, v, kAllowed));
  const std::string_view unit = m->unit;
  const std::int64_t scale = unit == "s" ? 1000000000 : unit == "ms" ? 1000000 : unit == "us" ? 1000 : 1;
  const std::string whole(m->whole);
  const std::string_view frac = m->frac;
  // Exact integer arithmetic; the model's resolution is 1 ns.
  constexpr std::int64_t kMaxNs = std::numeric_limits<std::int64_t>::max() / 4;
  if (whole.size() > 18) fail(n, fmt::format("{} is too large: '{}'", what, v));
  std::int64_t ns = std::stoll(whole);
  if (ns > kMaxNs / scale) fail(n, fmt::format("{} is too large: '{}'", what, v));
  ns *= scale;
  std::int64_t place = scale;
  for (char c : frac) {
    place /= 10;
    const int digit = c - '0';
    if (place == 0) {
      if (digit != 0) fail(n, fmt::format("{} is finer than the model's 1ns resolution: '{}'", what, v));
      continue;
    }
    ns += digit * place;
  }
  return Duration{ns};
}

std::uint64_t Loader::size(const YAML::Node& n, std::string_view what) const {
  const std::string v = scalar(n, what);
  static const std::string kAllowed = "bytes, or a number with suffix k or m, e.g. 512, 4k, 1m";
  if (!v.empty() && v[0] == '-')
    fail(n, fmt::format("{} must not be negative, got '{}' (allowed: {})", what, v, kAllowed));
  // ([0-9]+)([km]?)
  const std::string_view text = v;
  const std::size_t suffix_len = !text.empty() && (text.back() == 'k' || text.back() == 'm') ? 1 : 0;
  const std::string digits(text.substr(0, text.size() - suffix_len));
  if (!is_digits(digits)) fail(n, fmt::format("{} is not a size: '{}' (allowed: {})", what, v, kAllowed));
  if (digits.size() > 12) fail(n, fmt::format("{} is too large: '{}' (at most 16m)", what, v));
  std::uint64_t bytes = std::stoull(digits);
  const std::string_view suffix = text.substr(text.size() - suffix_len);
  if (suffix == "k") bytes <<= 10;
  if (suffix == "m") bytes <<= 20;
  if (bytes == 0) fail(n, fmt::format("{} must be positive, got '{}'", what, v));
  if (bytes > kMaxSize) fail(n, fmt::format("{} is too large: '{}' (at most 16m)", what, v));
  return bytes;
}

bool Loader::boolean(const YAML::Node& n, std::string_view what) const {
  const std::string v = scalar(n, what);
  if (v == "true") return true;
  if (v == "false") return false;
  fail(n, fmt::format("{} must be true or false, got '{}' (allowed: true, false)", what, v));
}

template <typename E>
E Loader::enumeration(const YAML::Node& n, std::string_view what) const {
  const std::string v = scalar(n, what);
  if (auto e = enum_from_string<E>(v)) return *e;
  const std::string allowed = allowed_names<E>();
  fail(n, fmt::format("unknown {} '{}'{} (allowed: {})", what, v, did_you_mean(v, split_names(allowed)), allowed));
}

Patch Loader::patch_id(const YAML::Node& n) const {
  const std::string v = scalar(n, "patch id");
  if (auto p = patch_from_string(v)) return *p;
  fail(n, fmt::format("unknown patch id '{}' (allowed: p01 .. p17)", v));
}

void Loader::require_sequence(const YAML::Node& n, std::string_view what) const {
  if (!n.IsSequence()) fail(n, fmt::format("{} must be a list", what));
}

FixSet Loader::fixes(const YAML::Node& n) const {
  if (n.IsScalar()) {
    if (n.Scalar() == "all") return FixSet::all();
    if (n.Scalar() == "none") return FixSet::none();
    fail(n, fmt::format("unknown fixes value '{}' (allowed: all, none, {{except: [pNN, ...]}}, {{only: [pNN, ...]}})",
                        n.Scalar()));
  }
  const MapView m = map_of(n, "fixes", {"except", "only"});
  if (m.entries.size() != 1) fail(n, "fixes must have exactly one of 'except' or 'only'");
  const auto& [key, list] = m.entries.front();
  require_sequence(list, fmt::format("fixes.{}", key.Scalar()));
  const bool only = key.Scalar() == "only";
  FixSet s = only ? FixSet::none() : FixSet::all();
  std::set<int> seen;
  for (const auto& item : list) {
    const Patch p = patch_id(item);
    if (!seen.insert(static_cast<int>(p)).second) fail(item, fmt::format("patch {} listed twice", patch_name(p)));
    s.set(p, only);
  }
  return s;
}

void Loader::params(const YAML::Node& n, Scenario& s) const {
  std::vector<std::string_view> keys;
  for (const auto& p : param_catalog()) keys.push_back(p.key);
  const MapView m = map_of(n, "params", keys);
  for (const auto& [key, value] : m.entries) {
    const ParamInfo* info = find_param(key.Scalar());
    const std::string what = fmt::format("params.{}", key.Scalar());
    if (info->kind == ParamKind::duration) {
      set_param(s.params, info->key, duration(value, what));
    } else {
      set_param(s.params, info->key, uint(value, what, info->min_count, 1u << 20));
    }
    s.written_params.push_back(key.Scalar());
  }
}

void Loader::sessions(const YAML::Node& n, Scenario& s) const {
  require_sequence(n, "sessions");
  if (n.size() == 0) fail(n, "sessions must list at least one session");
  if (n.size() > kMaxSessions) fail(n, fmt::format("too many sessions: {} (at most {})", n.size(), kMaxSessions));
  s.sessions.clear();
  for (const auto& item : n) {
    const MapView m = map_of(item, "a sessions entry", {"luns", "cmds_max"});
    SessionSpec spec;
    if (auto v = m.get("luns")) spec.luns = static_cast<std::uint32_t>(uint(*v, "luns", 1, kMaxLuns));
    if (auto v = m.get("cmds_max")) {
      needs_v2(*v, s.schema, "a session's cmds_max");
      spec.cmds_max = static_cast<std::uint32_t>(uint(*v, "cmds_max", kMinCmdsMax, kMaxCmdsMax));
      // iscsi_host_get_max_scsi_cmds: a power of two (it would round down)
      const std::uint32_t c = *spec.cmds_max;
      if ((c & (c - 1)) != 0) {
        std::uint32_t down = 1;
        while (down * 2 <= c) down *= 2;
        fail(*v, fmt::format("cmds_max {} is not a power of two (allowed: 16, 32, ..., 4096; libiscsi would round it "
                             "down to {})",
                             c, down));
      }
    }
    s.sessions.push_back(spec);
  }
}

std::uint32_t Loader::session_index(const YAML::Node& n, const Scenario& s) const {
  const auto v = uint(n, "session", 0, std::numeric_limits<std::uint32_t>::max());
  if (v >= s.sessions.size())
    fail(n,
         fmt::format("session {} is not defined (allowed: 0..{}, from the sessions list)", v, s.sessions.size() - 1));
  return static_cast<std::uint32_t>(v);
}

std::uint32_t Loader::lun_index(const YAML::Node& n, const Scenario& s, std::optional<std::uint32_t> session) const {
  const auto v = uint(n, "lun", 0, std::numeric_limits<std::uint32_t>::max());
  std::uint32_t luns = 0;
  if (session) {
    luns = s.sessions[*session].luns;
  } else {
    for (const auto& spec : s.sessions) luns = std::max(luns, spec.luns);
  }
  if (v >= luns)
    fail(n, fmt::format("lun {} is not defined{} (allowed: 0..{})", v,
                        session ? fmt::format(" for session {}", *session) : std::string(), luns - 1));
  return static_cast<std::uint32_t>(v);
}

void Loader::workload(const YAML::Node& n, Scenario& s) const {
  require_sequence(n, "workload");
  for (const auto& item : n) {
    const MapView m = map_of(item, "a workload entry", {"session", "lun", "ops", "depth", "start", "op", "size"});
    WorkloadStream w;
    w.mark = mark(item);
    if (auto v = m.get("session")) w.session = session_index(*v, s);
    if (auto v = m.get("lun")) w.lun = lun_index(*v, s, w.session);
    w.ops = uint(require(m, "ops", "a workload entry"), "ops", 1, kMaxOps);
    if (auto v = m.get("depth")) w.depth = static_cast<std::uint32_t>(uint(*v, "depth", 1, kMaxDepth));
    if (auto v = m.get("start")) w.start = duration(*v, "start");
    if (auto v = m.get("op")) w.op = enumeration<OpKind>(*v, "op");
    if (auto v = m.get("size")) w.size = size(*v, "size");
    s.workload.push_back(w);
  }
}

Match Loader::match(const YAML::Node& n, const PointInfo& point, const Scenario& s) const {
  struct KeyBit {
    std::string_view key;
    unsigned bit;
  };
  static constexpr KeyBit kKeys[] = {{"session", kMatchSession}, {"lun", kMatchLun}, {"function", kMatchFunction},
                                     {"type", kMatchType},       {"gfp", kMatchGfp}, {"site", kMatchSite},
                                     {"cq", kMatchCq},           {"nth", kMatchNth}};
  std::vector<std::string_view> allowed;
  for (const auto& k : kKeys)
    if (point.match_keys & k.bit) allowed.push_back(k.key);
  const MapView m = map_of(n, fmt::format("match of {}", point.name), allowed);
  Match out;
  if (auto v = m.get("session")) out.session = session_index(*v, s);
  if (auto v = m.get("lun")) out.lun = lun_index(*v, s, out.session);
  if (auto v = m.get("function")) out.function = enumeration<TmfFunction>(*v, "TMF function");
  if (auto v = m.get("type")) out.type = enumeration<CqeType>(*v, "CQE type");
  if (auto v = m.get("gfp")) out.gfp = enumeration<Gfp>(*v, "gfp flag");
  if (auto v = m.get("cq")) {
    needs_v2(*v, s.schema, "match key cq");
    // One CQ per CPU (qedi's num_queues = hba.cpus), numbered from 0.
    const std::uint64_t cpus = s.params.hba_cpus;
    out.cq = static_cast<std::uint32_t>(uint(*v, fmt::format("cq (hba.cpus is {})", cpus), 0, cpus - 1));
  }
  if (auto v = m.get("site")) {
    out.site = scalar(*v, "site");
    if (out.site->empty()) fail(*v, "site must name a kernel function");
  }
  if (auto v = m.get("nth")) {
    if (v->IsMap()) {
      const MapView every = map_of(*v, "nth", {"every"});
      out.nth.every = uint(require(every, "every", "nth"), "nth.every", 1, std::numeric_limits<std::uint64_t>::max());
    } else if (v->IsSequence()) {
      if (v->size() == 0) fail(*v, "nth must list at least one occurrence (omit it to match every occurrence)");
      for (const auto& item : *v)
        out.nth.list.push_back(uint(item, "nth", 1, std::numeric_limits<std::uint64_t>::max()));
    } else {
      fail(*v, "nth must be a list of occurrence numbers or {every: N} (allowed: [1, 2, ...], {every: N})");
    }
  }
  return out;
}

// Schema v2 constructs in a v1 file: an error that says which version they need.
void Loader::needs_v2(const YAML::Node& n, int schema, std::string_view what) const {
  if (schema < 2) fail(n, fmt::format("{} needs qedisim: 2 (this file says qedisim: {})", what, schema));
}

double Loader::probability(const YAML::Node& n, std::string_view what) const {
  const std::string v = scalar(n, what);
  static const std::string kAllowed = "a number p with 0 < p <= 1, e.g. 0.25";
  if (!is_decimal_text(v)) fail(n, fmt::format("{} is not a number: '{}' (allowed: {})", what, v, kAllowed));
  const double p = std::strtod(v.c_str(), nullptr);
  if (!(p > 0.0 && p <= 1.0)) fail(n, fmt::format("{} is out of range: {} (allowed: {})", what, v, kAllowed));
  return p;
}

FailAction Loader::fail_action(const YAML::Node& n, const PointInfo& point, int schema) const {
  std::vector<std::string_view> allowed;
  if (point.actions & kActDrop) allowed.push_back("drop");
  if (point.actions & kActFail) allowed.push_back("fail");
  if (point.actions & kActDelay) allowed.push_back("{delay: D}");
  if (point.actions & kActRespond) allowed.push_back("{respond: complete|no_task|rejected}");
  if (schema >= 2 && (point.actions & kActDelay)) allowed.push_back("{delay: {min: D, max: D}}");
  if (schema >= 2 && (point.actions & kActDrop)) allowed.push_back("{drop: {probability: p}}");
  const std::string allowed_text = join(allowed);
  FailAction a;
  if (n.IsScalar()) {
    const std::string& v = n.Scalar();
    if (v == "drop" && (point.actions & kActDrop)) {
      a.kind = FailAction::Kind::drop;
      return a;
    }
    if (v == "fail" && (point.actions & kActFail)) {
      a.kind = FailAction::Kind::fail;
      return a;
    }
    fail(n, fmt::format("action '{}' is not available at {} (allowed: {})", v, point.name, allowed_text));
  }
  if (!n.IsMap() || n.size() != 1) fail(n, fmt::format("action at {} must be one of: {}", point.name, allowed_text));
  std::vector<std::string_view> keys;
  if (point.actions & kActDelay) keys.push_back("delay");
  if (point.actions & kActRespond) keys.push_back("respond");
  if (point.actions & kActDrop) keys.push_back("drop");
  const MapView m = map_of(n, fmt::format("action at {}", point.name), keys);
  if (auto v = m.get("delay")) {
    a.kind = FailAction::Kind::delay;
    if (v->IsMap()) {
      needs_v2(*v, schema, "a delay range {min: D, max: D}");
      const MapView range = map_of(*v, "delay range", {"min", "max"});
      a.delay = duration(require(range, "min", "delay range"), "delay.min");
      const YAML::Node& max = require(range, "max", "delay range");
      a.delay_max = duration(max, "delay.max");
      if (*a.delay_max < a.delay)
        fail(max, fmt::format("delay.max {} is below delay.min {}", format_duration(*a.delay_max),
                              format_duration(a.delay)));
    } else {
      a.delay = duration(*v, "delay");
    }
  } else if (auto r = m.get("respond")) {
    a.kind = FailAction::Kind::respond;
    a.respond = enumeration<TmfRespond>(*r, "TMF response");
  } else if (const auto* d = m.find("drop")) {
    needs_v2(d->first, schema, "a random drop {drop: {probability: p}}");
    a.kind = FailAction::Kind::drop;
    const MapView pm = map_of(d->second, "drop", {"probability"});
    a.drop_probability = probability(require(pm, "probability", "drop"), "drop.probability");
  }
  return a;
}

void Loader::failpoints(const YAML::Node& n, Scenario& s) const {
  require_sequence(n, "failpoints");
  for (const auto& item : n) {
    const MapView m = map_of(item, "a failpoints entry", {"point", "match", "action"});
    Failpoint fp;
    fp.mark = mark(item);
    const YAML::Node& pn = require(m, "point", "a failpoints entry");
    fp.point = scalar(pn, "point");
    const PointInfo* info = find_point(fp.point);
    if (!info)
      fail(pn, fmt::format("unknown failpoint '{}'{} (`qedisim points` lists all; vocabulary v1: target.scsi_rsp, "
                           "target.tmf_rsp, target.logout_rsp, fw.cqe, fw.cleanup, mem.alloc, qedi.*, libiscsi.*)",
                           fp.point, did_you_mean(fp.point, point_names())));
    if (auto v = m.get("match")) fp.match = match(*v, *info, s);
    fp.action = fail_action(require(m, "action", "a failpoints entry"), *info, s.schema);
    s.failpoints.push_back(fp);
  }
}

ActionArgs Loader::action_args(const YAML::Node& n, ActionKind kind, const Scenario& s) const {
  std::vector<std::string_view> allowed;
  switch (kind) {
    case ActionKind::iscsid_terminate:
      allowed = {"session", "unbind_target"};
      break;
    case ActionKind::iscsid_stop_conn:
      allowed = {"session", "flag"};
      break;
    case ActionKind::scsi_reset:
      allowed = {"session", "lun", "level"};
      break;
    case ActionKind::scsi_abort:
      allowed = {"session", "stream", "op"};
      break;
    case ActionKind::hba_remove:
      allowed = {};
      break;
    default:
      allowed = {"session"};
      break;
  }
  const std::string what = fmt::format("args of {}", to_string(kind));
  ActionArgs a;
  if (!n.IsMap() && allowed.empty()) fail(n, fmt::format("{} takes no args", to_string(kind)));
  const MapView m = map_of(n, what, allowed);
  if (allowed.empty() && !m.entries.empty()) fail(n, fmt::format("{} takes no args", to_string(kind)));
  if (auto v = m.get("session")) a.session = session_index(*v, s);
  if (auto v = m.get("unbind_target")) a.unbind_target = boolean(*v, "unbind_target");
  if (auto v = m.get("flag")) a.flag = enumeration<StopFlag>(*v, "stop_conn flag");
  if (auto v = m.get("lun")) a.lun = lun_index(*v, s, a.session);
  if (auto v = m.get("level")) a.level = enumeration<ResetLevel>(*v, "reset level");
  if (kind == ActionKind::scsi_abort) {
    if (s.workload.empty()) fail(n, "scsi.abort needs a workload stream to abort a command of");
    if (auto v = m.get("stream")) {
      const auto idx = uint(*v, "stream", 0, std::numeric_limits<std::uint32_t>::max());
      if (idx >= s.workload.size())
        fail(*v, fmt::format("stream {} is not defined (allowed: 0..{}, workload entry index)", idx,
                             s.workload.size() - 1));
      a.stream = static_cast<std::uint32_t>(idx);
    }
    const WorkloadStream& w = s.workload[a.stream];
    if (auto v = m.get("op")) {
      a.op = uint(*v, "op", 0, std::numeric_limits<std::uint64_t>::max());
      if (a.op >= w.ops) fail(*v, fmt::format("op {} is beyond stream {} (allowed: 0..{})", a.op, a.stream, w.ops - 1));
    }
    if (m.get("session") && a.session != w.session)
      fail(*m.get("session"), fmt::format("session {} does not match stream {}, which runs on session {}", a.session,
                                          a.stream, w.session));
    a.session = w.session;
  }
  return a;
}

void Loader::actions(const YAML::Node& n, Scenario& s) const {
  require_sequence(n, "actions");
  std::vector<std::string> kinds;
  for (std::string_view k : EnumNames<ActionKind>::all()) kinds.emplace_back(k);
  for (const auto& item : n) {
    const MapView m = map_of(item, "an actions entry", {"at", "on", "do", "args"});
    Action a;
    a.mark = mark(item);
    const auto at = m.get("at");
    const auto on = m.get("on");
    if (at && on) fail(item, "an action has both 'at' and 'on' (allowed: exactly one)");
    if (!at && !on) fail(item, "an action needs 'at: T' or 'on: {point: P, nth: N}' (allowed: exactly one)");
    if (at) a.at = duration(*at, "at");
    if (on) {
      const MapView om = map_of(*on, "on", {"point", "nth"});
      const YAML::Node& pn = require(om, "point", "on");
      ActionTrigger t;
      t.point = scalar(pn, "point");
      if (!find_point(t.point))
        fail(pn, fmt::format("unknown failpoint '{}'{} (`qedisim points` lists all)", t.point,
                             did_you_mean(t.point, point_names())));
      if (auto v = om.get("nth")) t.nth = uint(*v, "nth", 1, std::numeric_limits<std::uint64_t>::max());
      a.on = t;
    }
    a.kind = enumeration<ActionKind>(require(m, "do", "an actions entry"), "action");
    if (auto v = m.get("args")) {
      a.args = action_args(*v, a.kind, s);
    } else {
      a.args = action_args(YAML::Node(YAML::NodeType::Map), a.kind, s);
    }
    s.actions.push_back(a);
  }
}

std::vector<InvariantId> Loader::invariant_list(const YAML::Node& n, std::string_view what) const {
  require_sequence(n, what);
  std::vector<InvariantId> out;
  for (const auto& item : n) {
    const InvariantId id = enumeration<InvariantId>(item, "invariant id");
    if (std::find(out.begin(), out.end(), id) != out.end())
      fail(item, fmt::format("invariant id '{}' listed twice in {}", to_string(id), what));
    out.push_back(id);
  }
  return out;
}

void Loader::expect(const YAML::Node& n, Scenario& s, const YAML::Node& root) const {
  const MapView m = map_of(n, "expect", {"fixed", "reverted", "final"});
  if (auto v = m.get("fixed")) s.expect.fixed = invariant_list(*v, "expect.fixed");
  if (auto v = m.get("reverted")) {
    if (!s.patch) fail(m.find("reverted")->first, "expect.reverted needs a top-level 'patch: pNN' to revert");
    s.expect.reverted = invariant_list(*v, "expect.reverted");
  }
  (void)root;
  if (auto v = m.get("final")) {
    const MapView f = map_of(*v, "expect.final", {"tids_in_use", "cmds_completed", "cmds_failed", "eh_max_level"});
    const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (auto c = f.get("tids_in_use"))
      s.expect.final.tids_in_use = static_cast<std::int64_t>(uint(*c, "tids_in_use", 0, max));
    if (auto c = f.get("cmds_completed"))
      s.expect.final.cmds_completed = static_cast<std::int64_t>(uint(*c, "cmds_completed", 0, max));
    if (auto c = f.get("cmds_failed"))
      s.expect.final.cmds_failed = static_cast<std::int64_t>(uint(*c, "cmds_failed", 0, max));
    if (auto c = f.get("eh_max_level")) s.expect.final.eh_max_level = enumeration<EhLevel>(*c, "eh_max_level");
  }
}

Scenario Loader::load(const std::string& text) {
  // Count documents with the event parser first: yaml-cpp 0.7's LoadAll never
  // ends on some malformed input (e.g. ",m" yields documents forever).
  check_nesting(text);
  count_documents(text);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at(e.mark.line + 1, e.mark.column + 1, yaml_error_text(text, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) fail_at(1, 1, "empty document: a scenario needs at least 'qedisim: 1' and 'name'");
  const MapView m = map_of(root, "the scenario",
                           {"qedisim", "name", "about", "patch", "seed", "stop_at", "fixes", "params", "sessions",
                            "workload", "failpoints", "actions", "expect"});
  Scenario s;
  s.file = file_;
  s.schema = static_cast<int>(uint(require(m, "qedisim", "the scenario"), "qedisim (schema version)", 1, 2));
  {
    const YAML::Node& n = require(m, "name", "the scenario");
    s.name = scalar(n, "name");
    if (!is_name_text(s.name) || s.name.size() > kMaxNameLength)
      fail(n, fmt::format("name '{}' must be 1..{} characters of [a-z0-9-] (it names output files)", s.name,
                          kMaxNameLength));
  }
  if (auto v = m.get("about")) s.about = scalar(*v, "about");
  if (auto v = m.get("patch")) s.patch = patch_id(*v);
  if (auto v = m.get("seed")) s.seed = uint(*v, "seed", 0, std::numeric_limits<std::uint64_t>::max());
  if (auto v = m.get("stop_at")) {
    s.stop_at = duration(*v, "stop_at");
    if (s.stop_at.ns == 0) fail(*v, "stop_at must be positive");
  }
  if (auto v = m.get("fixes")) {
    s.fixes = fixes(*v);
    if (!(v->IsScalar() && v->Scalar() == "all")) s.fixes_chosen = mark(*v);
  }
  if (auto v = m.get("params")) params(*v, s);
  // Topology first: later sections refer to sessions, LUNs and streams by index.
  if (auto v = m.get("sessions")) sessions(*v, s);
  if (auto v = m.get("workload")) workload(*v, s);
  if (auto v = m.get("failpoints")) failpoints(*v, s);
  if (auto v = m.get("actions")) actions(*v, s);
  if (auto v = m.get("expect")) expect(*v, s, root);
  return s;
}

}  // namespace

Scenario load_scenario_text(const std::string& text, const std::string& name_for_errors) {
  return Loader(name_for_errors).load(text);
}

Scenario load_scenario_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ScenarioError(path, 1, 1, fmt::format("cannot read scenario file: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw ScenarioError(path, 1, 1, "cannot read scenario file: it is a directory");
  constexpr off_t kMaxFile = 1 << 20;
  if (st.st_size > kMaxFile)
    throw ScenarioError(path, 1, 1, fmt::format("scenario file is {} bytes (at most {})", st.st_size, kMaxFile));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path, 1, 1, fmt::format("cannot read scenario file: {}", std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  if (text.find('\0') != std::string::npos)
    throw ScenarioError(path, 1, 1, "scenario file is binary (contains NUL bytes)");
  return load_scenario_text(text, path);
}

}  // namespace qedisim
