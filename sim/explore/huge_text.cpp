#include "sim/explore/huge_text.h"

#include <link.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "sim/explore/instrumented.h"

namespace qedisim {

namespace {

constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;

struct Span {
  char* begin = nullptr;
  char* end = nullptr;
};

// Bytes from `p` up to the next 2 MiB boundary (0 when on one).
std::size_t to_boundary(const char* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return static_cast<std::size_t>((kHuge - a % kHuge) % kHuge);
}

// The main program's executable segment (its name is empty in the list).
int find_code(dl_phdr_info* info, std::size_t, void* arg) {
  if (info->dlpi_name && info->dlpi_name[0] != '\0') return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
      auto* s = static_cast<Span*>(arg);
      // The loader gives the segment's address as an integer.
      // NOLINTNEXTLINE(performance-no-int-to-ptr)
      s->begin = reinterpret_cast<char*>(info->dlpi_addr + ph.p_vaddr);
      s->end = s->begin + ph.p_memsz;
    }
  }
  return 1;
}

// AnonHugePages of the mapping that starts at `start`, from /proc/self/smaps.
std::size_t huge_bytes_at(const char* start) {
  const auto begin = reinterpret_cast<std::uintptr_t>(start);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    unsigned long a = 0, b = 0;
    char dash = 0;
    if (std::sscanf(line.c_str(), "%lx%c%lx ", &a, &dash, &b) == 3 && dash == '-') {
      inside = a == begin;
      continue;
    }
    std::size_t kib = 0;
    if (inside && std::sscanf(line.c_str(), "AnonHugePages: %zu kB", &kib) == 1) return kib * 1024;
  }
  return 0;
}

bool thp_never() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(in, mode);
  return !in || mode.find("[never]") != std::string::npos;
}

HugeText left(const char* why) { return HugeText{0, why}; }

HugeText move_code() {
  if (QEDISIM_SANITIZED) return left("a sanitizer build");
  if (const char* env = std::getenv("QEDISIM_HUGE_TEXT"); env && std::strcmp(env, "0") == 0)
    return left("QEDISIM_HUGE_TEXT=0");
  if (under_valgrind()) return left("under valgrind");
  if (thp_never()) return left("transparent huge pages are off");
  Span code;
  dl_iterate_phdr(find_code, &code);
  if (!code.begin) return left("no code segment found");
  char* const begin = code.begin + to_boundary(code.begin);
  const std::size_t len = code.end > begin ? static_cast<std::size_t>(code.end - begin) / kHuge * kHuge : 0;
  if (len == 0) return left("no whole 2 MiB of code (linked without 2 MiB segments?)");
  // A 2 MiB-aligned copy: reserve one huge page more and trim.
  void* reserved = ::mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) return left("no memory for the copy");
  char* const raw = static_cast<char*>(reserved);
  const std::size_t head = to_boundary(raw);
  char* const copy = raw + head;
  if (head) ::munmap(raw, head);
  ::munmap(copy + len, kHuge - head);
  ::madvise(copy, len, MADV_HUGEPAGE);
  std::memcpy(copy, begin, len);
  if (huge_bytes_at(copy) != len) {
    ::munmap(copy, len);
    return left("the kernel gave no huge page");
  }
  // The bytes are the same on both sides, so this very function returns
  // into the copy as it would have into the file mapping.
  if (::mprotect(copy, len, PROT_READ | PROT_EXEC) != 0 ||
      ::mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, begin) == MAP_FAILED) {
    ::munmap(copy, len);
    return left("mprotect or mremap refused");
  }
  const std::size_t moved = huge_bytes_at(begin);
  return moved ? HugeText{moved, ""} : left("moved, but not on a huge page");
}

}  // namespace

HugeText map_code_on_huge_pages() {
  static const HugeText outcome = move_code();  // the first call's
  return outcome;
}

}  // namespace qedisim
