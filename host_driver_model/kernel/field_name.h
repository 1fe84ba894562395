// The name of a tracked field (KRD/KWR and friends, slab.h), interned once
// per access site: `id` is dense from 0 and the same for the same text in
// every translation unit, so a checker indexes its tables by it instead of
// hashing the name at every access (data_race sees every one).
#pragma once

#include <cstdint>

namespace qedisim::kern {

struct FieldName {
  explicit FieldName(const char* text);  // interns `text`
  const char* name;                      // a string literal
  std::uint32_t id;
};

}  // namespace qedisim::kern

// The FieldName of one access site: a function-local static, built the first
// time the site runs.
#define QEDISIM_FIELD(text)                                       \
  ([]() -> const ::qedisim::kern::FieldName& {                    \
    static const ::qedisim::kern::FieldName qedisim_field_{text}; \
    return qedisim_field_;                                        \
  }())
