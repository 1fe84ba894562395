// Whether this process runs under a tool that watches its memory: a
// sanitizer build (ASan must see every allocation and mapping) or valgrind
// (its library in LD_PRELOAD). The forked runs' tricks stand aside then:
// the child heap (child_heap.h), the code on a huge page (huge_text.h),
// the bind-now re-exec (fork_pool.h).
#pragma once

#include <cstdlib>
#include <string_view>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QEDISIM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define QEDISIM_SANITIZED 1
#endif
#endif
#ifndef QEDISIM_SANITIZED
#define QEDISIM_SANITIZED 0
#endif

namespace qedisim {

inline bool under_valgrind() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload && std::string_view(preload).find("vgpreload") != std::string_view::npos;
}

}  // namespace qedisim
