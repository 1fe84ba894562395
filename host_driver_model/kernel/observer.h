// What the kernel layer tells the checkers. Checkers observe; nothing here
// returns a value that could change what the model does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qedisim::kern {

class Context;
struct ObjectHeader;

enum class AccessKind { read, write, lock, wake, timer, free };

class Observer {
 public:
  virtual ~Observer() = default;

  // Tracked storage (slab.h).
  virtual void object_allocated(const ObjectHeader&) {}
  virtual void object_freed(const ObjectHeader&) {}
  // An access through a pointer whose object is freed or whose incarnation ended.
  virtual void use_after_free(const ObjectHeader&, std::uint32_t /*taken_incarnation*/, AccessKind,
                              std::string_view /*field*/) {}
  // A free of an object (incarnation) that is already free.
  virtual void double_free(const ObjectHeader&, std::uint32_t /*taken_incarnation*/) {}
  // A tracked pointer field holding null was dereferenced (the call is abandoned).
  virtual void null_deref(std::string_view /*owner*/, std::string_view /*field*/) {}

  // Blocking (wait.h, lock.h): a context enters or leaves one logical wait.
  // `idle` waits (a worker waiting for work) do not count for hung_task.
  virtual void wait_begin(const Context&, std::string_view /*what*/, bool /*idle*/) {}
  virtual void wait_end(const Context&, bool /*timed_out*/) {}
};

}  // namespace qedisim::kern
