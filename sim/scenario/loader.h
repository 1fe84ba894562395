// YAML -> Scenario. Every error is a ScenarioError carrying file, line and
// column; nothing is silently ignored (docs/scenarios.md "Validation rules").
#pragma once

#include <stdexcept>
#include <string>

#include "sim/scenario/scenario.h"

namespace qedisim {

class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(std::string file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

// Reads and validates `path`. Throws ScenarioError.
Scenario load_scenario_file(const std::string& path);
// Same on text already in memory; `name_for_errors` is what messages show.
Scenario load_scenario_text(const std::string& text, const std::string& name_for_errors);

}  // namespace qedisim
