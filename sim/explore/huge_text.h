// The program's own code on a transparent huge page, in a process about to
// fork many short runs (explore, swarm, shrink).
//
// fork() copies the page tables of anonymous memory but not of a file
// mapping, so every child faulted qedisim's code in again from the page
// cache, 64 KiB at a time: ~25 faults per p11 run, and ~400 page-table
// entries set and torn down again at its exit. map_code_on_huge_pages()
// copies the 2 MiB-aligned stretch of the program's code (the link aligns
// the program's segments to 2 MiB, sim/CMakeLists.txt) into anonymous
// memory on a huge page and moves it over the file mapping: a child then
// inherits the whole stretch in one page-table entry. The bytes are the
// same; only where they come from changes.
//
// Left as it is (and said why) under the sanitizers, under valgrind, with
// QEDISIM_HUGE_TEXT=0 in the environment, when transparent huge pages are
// off (`never`), when the code has no whole aligned 2 MiB, and when the
// kernel gives no huge page for the copy. Profilers that name functions by
// the file a mapping comes from (perf) see the moved stretch as anonymous
// code: set QEDISIM_HUGE_TEXT=0 to profile a campaign.
#pragma once

#include <cstddef>

namespace qedisim {

struct HugeText {
  std::size_t bytes = 0;  // code now on huge pages (0: left in the file mapping)
  const char* why = "";   // when 0: the reason, for tests and diagnostics
};

// Once, in the parent, before it forks. Safe to call again (a no-op then).
// The process must have no other thread running.
HugeText map_code_on_huge_pages();

}  // namespace qedisim
