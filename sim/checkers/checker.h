// What every checker shares: the findings sink and the way a finding is
// recorded. A finding is recorded, never thrown (docs/invariants.md).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/checkers/site.h"
#include "sim/checkers/violation.h"
#include "sim/scenario/vocabulary.h"

namespace qedisim::checkers {

// Collects findings of all checkers. Repeats of (id, object type, function)
// beyond `keep_per_key` only raise the count of the last one kept, so memory
// stays flat on long runs; the report folds the rest.
class Findings {
 public:
  explicit Findings(std::size_t keep_per_key = 64) : keep_per_key_(keep_per_key) {}
  void add(Violation v);
  // Told each finding that is kept (not folded into a repeat's count), when it is recorded.
  void set_listener(std::function<void(const Violation&)> f) { on_add_ = std::move(f); }
  // false: warnings (is_warning) are dropped when added. A checker asks
  // wants() before it builds a finding's text.
  void keep_warnings(bool keep) { keep_warnings_ = keep; }
  bool wants(InvariantId id) const { return keep_warnings_ || !is_warning(id); }
  // Time order; equal times keep recording order.
  std::vector<Violation> violations() const;
  std::vector<Violation> warnings() const;

 private:
  static std::vector<Violation> sorted(std::vector<Violation> v);
  std::size_t keep_per_key_;
  bool keep_warnings_ = true;
  std::function<void(const Violation&)> on_add_;
  std::vector<Violation> violations_;
  std::vector<Violation> warnings_;
  std::map<std::tuple<InvariantId, std::string, std::string>, std::pair<std::size_t, std::size_t>> kept_;
};

class Checker {
 public:
  Checker(InvariantId id, Findings& out) : id_(id), out_(&out) {}
  virtual ~Checker() = default;
  InvariantId id() const { return id_; }

 protected:
  // `at` gives time and context; `function` the kernel function the finding
  // names (often at.fn).
  void report(const Site& at, std::string object, std::string function, std::string message);
  // Whether a report of this checker is kept (not a warning nobody wants).
  bool wanted() const { return out_->wants(id_); }

 private:
  InvariantId id_;
  Findings* out_;
};

}  // namespace qedisim::checkers
