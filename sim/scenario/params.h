// The one table of model parameters, composed from the keys each layer
// declares (common/params.h): every delay, timeout and table size, each a
// named value with a unit and a default. Scenario `params:` overrides them
// by dotted key; any other key is a load error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "hba_model/hba_params.h"
#include "host_driver_model/driver_params.h"
#include "sim/checkers/checker_params.h"
#include "sim/target/target_params.h"

namespace qedisim {

// Every key of every model, in the order `qedisim params` prints them. Each
// list is declared by the layer that owns the keys.
#define QEDISIM_PARAMS(X)  \
  QEDISIM_DRIVER_PARAMS(X) \
  QEDISIM_HBA_PARAMS(X)    \
  QEDISIM_TARGET_PARAMS(X) \
  QEDISIM_CHECKER_PARAMS(X)

// One run's parameters: each model reads its own part (a DriverParams, an
// HbaParams, ...), the loader sets any of them by key.
struct ModelParams : drv::DriverParams, hba::HbaParams, target::TargetParams, checkers::CheckerParams {
  using Count = qedisim::Count;
};

enum class ParamKind { duration, count };

struct ParamInfo {
  std::string_view key;
  ParamKind kind;
  std::string_view meaning;
  std::uint64_t min_count;  // for Count: smallest allowed value
};

// Every known key, in QEDISIM_PARAMS order.
const std::vector<ParamInfo>& param_catalog();
const ParamInfo* find_param(std::string_view key);

// Setters used by the loader; the key must come from param_catalog().
void set_param(ModelParams& p, std::string_view key, Duration value);
void set_param(ModelParams& p, std::string_view key, std::uint64_t value);
// Current value of a duration parameter.
Duration duration_param(const ModelParams& p, std::string_view key);
// Current value, human form ("15s", "4096"), for `--help` and reports.
std::string param_value_string(const ModelParams& p, std::string_view key);

}  // namespace qedisim
