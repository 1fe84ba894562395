// The heap of a process that runs one simulation: ForkPool's children
// (explore, swarm), run_in_child's (shrink's candidates, check's two runs),
// and `qedisim run`'s own process (and bench/qedisim_bare), where a free
// list per size class costs a fraction of malloc and free per block.
//
// A child inherits the parent's malloc state: its bins and thread cache are
// full of the chunks elaboration freed, spread over pages the child shares
// copy-on-write with the parent. glibc served almost half of a p11 child's
// ~1,400 allocations from its slow path, each first touch of a shared page a
// copy. begin_child_heap() switches operator new, for the rest of the
// process, to a heap of its own: fresh pages reserved in the child, a free
// list per 16-byte size class up to 4 KiB, larger blocks from malloc.
// operator delete tells the two apart by address, so what the parent
// allocated is still freed by free(). No reuse across classes and no
// locking: a child runs one simulation on one thread (SystemC's threads are
// coroutines) and exits.
//
// Off under the sanitizers (ASan must see every allocation), and when the
// environment sets QEDISIM_CHILD_HEAP=0 (to compare a campaign with and
// without it: the results are the same, tests/explore).
//
// A block of 2 MiB or more (before main too) gets a mapping of its own,
// aligned to and rounded up to 2 MiB, on transparent huge pages where the
// system allows them: SystemC's library zeroes a 3 MiB block before main,
// 768 page faults on 4 KiB pages, and the VCD tracer's changes double to
// tens of MiB.
#pragma once

#include <cstddef>

namespace qedisim {

// How the child heap's pages are made. `on_fault`: by the first touch of
// each, for a child that uses a few pages past what its parent or restore
// point made. `populate_ahead`: a chunk at a time in front of the
// allocation point, for a process's only simulation (`qedisim run`), which
// touches all the pages it moves past; the simulation then takes no page
// fault in the child heap.
enum class HeapPages { on_fault, populate_ahead };

// Call once, in the child right after fork (or before a process's only
// simulation), before anything else allocates. Never in a process that
// forks runs afterwards: its children would share its free lists' pages
// copy-on-write. Returns whether operator new now uses the child heap.
bool begin_child_heap(HeapPages pages = HeapPages::on_fault);

// For tests: the bytes of the child heap handed out so far (0 when off).
std::size_t child_heap_used();

}  // namespace qedisim
