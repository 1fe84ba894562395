// The name of a tracked field (KRD/KWR and friends, slab.h) and its id: a
// hash of the text computed at compile time, so the same text has the same
// id in every translation unit and an access site's FieldName is a constant
// (no first-use initialization, which every explore child paid again at
// each site). A checker keys its tables by the id instead of hashing the
// name at every access (data_race sees every one); two texts with one id
// would be caught there (DataRaceChecker::shadow_insert).
#pragma once

#include <cstdint>

namespace qedisim::kern {

struct FieldName {
  constexpr explicit FieldName(const char* text) : name(text), id(hash(text)) {}
  const char* name;  // a string literal
  std::uint32_t id;

  // 32-bit FNV-1a.
  static constexpr std::uint32_t hash(const char* s) {
    std::uint32_t h = 2166136261u;
    for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 16777619u;
    return h;
  }
};

}  // namespace qedisim::kern

// The FieldName of one access site: a constant.
#define QEDISIM_FIELD(text)                                           \
  ([]() -> const ::qedisim::kern::FieldName& {                        \
    static constexpr ::qedisim::kern::FieldName qedisim_field_{text}; \
    return qedisim_field_;                                            \
  }())
