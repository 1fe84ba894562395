// Runs tasks in forked children, at most `jobs` at a time, each child a fresh
// copy of the loaded parent (never re-exec'd: SystemC elaborates once per
// process). A child's answer comes back as text through its own socket.
//
// With `reuse`, a child is a worker that runs task after task, each from
// the memory it had when forked (restore_point.h); it is replaced when it
// dies or cannot go back. Without it, or where the restore point is not
// available, a child runs one task and exits.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sim/explore/child_heap.h"

namespace qedisim {

struct ChildOutcome {
  bool ok = false;      // exited 0 with an answer
  std::string payload;  // what the child wrote
  std::string error;    // why not ok: "died with signal 11 (...)", ...
};

struct ForkPool {
  int jobs = 1;
  // Called in the child for task `i`; its return value is the payload.
  // An exception becomes a failed outcome carrying its message.
  std::function<std::string(std::size_t)> child;
  // Called in the parent, in completion order.
  std::function<void(std::size_t, ChildOutcome&&)> done;
  // Polled between events (at least every `tick_ms`): true stops launching.
  std::function<bool()> stop;
  // Called every tick and after each completion (progress display).
  std::function<void()> tick;
  int tick_ms = 100;
  // Workers run many tasks: only when every task starts from the same state
  // of the parent (explore, which elaborated the model before forking).
  bool reuse = false;
  // When set: how many children run() forked.
  std::size_t* forked = nullptr;
  // How a child's heap makes its pages (child_heap.h): populate_ahead where
  // each child elaborates a model of its own (swarm), touching every page
  // it passes; on_fault where it runs from its parent's model.
  HeapPages heap_pages = HeapPages::on_fault;
  // false: the child keeps the process's malloc (child_heap.h), for a
  // child that forks children of its own (swarm's shrinks, each of whose
  // candidates runs in a child that begins a heap of its own).
  bool child_heap = true;

  // Runs `tasks` in order; returns how many were launched (all of them were
  // waited for). Throws std::runtime_error if fork/pipe fail.
  std::size_t run(const std::vector<std::size_t>& tasks) const;
};

// Before a campaign that forks many children: re-executes this process once
// (/proc/self/exe, the same arguments) with LD_BIND_NOW=1, so that ld.so
// binds every shared-library symbol at start-up, once, and each child
// inherits the bound tables. With lazy binding every child resolved again,
// on its first call, each library function the simulation uses (the parent
// never calls them): ~0.3 M instructions and a copy-on-write fault per table
// page in every child, 8-10 % of a p11 campaign's runs per second.
// Returns, doing nothing, when LD_BIND_NOW is already in the environment
// (set it empty to keep lazy binding), under valgrind (its tool would not
// follow the exec), or when the exec fails.
void reexec_binding_now(int argc, char** argv);

}  // namespace qedisim
