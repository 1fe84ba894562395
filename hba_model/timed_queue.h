// A time-ordered queue of pending engine steps: the firmware and the target
// keep their future work here and a single SC_METHOD in their shell wakes at
// the earliest entry. Entries due at the same time run in insertion order,
// so runs are deterministic. Pure C++ (times in ns).
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace qedisim {

template <typename T>
class TimedQueue {
 public:
  void schedule(std::int64_t time_ns, T item) { heap_.push(Entry{time_ns, next_seq_++, std::move(item)}); }

  std::optional<std::int64_t> next_time() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.top().time_ns;
  }

  // Removes and returns the earliest entry due at or before now_ns.
  std::optional<T> pop_due(std::int64_t now_ns) {
    if (heap_.empty() || heap_.top().time_ns > now_ns) return std::nullopt;
    T item = heap_.top().item;
    heap_.pop();
    return item;
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    std::int64_t time_ns;
    std::uint64_t seq;
    T item;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.seq > b.seq;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace qedisim
