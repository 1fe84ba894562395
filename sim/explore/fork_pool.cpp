#include "sim/explore/fork_pool.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "sim/explore/child_heap.h"
#include "sim/explore/instrumented.h"
#include "sim/explore/pipe_io.h"
#include "sim/explore/restore_point.h"

namespace qedisim {

namespace {

// A child's answer on its socket: one byte (0: the task returned, 3: it
// threw; plus kLeaving when the child exits after this answer), the
// payload's length (8 bytes, host order), the payload.
constexpr std::size_t kHeader = 9;
constexpr char kThrew = 3;
constexpr char kLeaving = 0x40;

struct Worker {
  pid_t pid = -1;
  int fd = -1;           // the socket: tasks to the child, answers from it
  bool busy = false;     // running `task`
  bool leaving = false;  // takes no more tasks: it said it leaves, or was told to
  std::size_t task = 0;
  std::string in;  // the answer's bytes so far
};

bool read_task(int fd, std::size_t& task) {
  std::uint64_t t = 0;
  std::size_t got = 0;
  while (got < sizeof t) {
    const ssize_t n = ::read(fd, reinterpret_cast<char*>(&t) + got, sizeof t - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  task = static_cast<std::size_t>(t);
  return true;
}

bool send_task(int fd, std::size_t task) {
  const auto t = static_cast<std::uint64_t>(task);
  for (;;) {
    const ssize_t n = ::send(fd, &t, sizeof t, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(sizeof t);
  }
}

// The child: `first`, then (from the restore point, each time) every task
// the parent sends until it shuts the socket.
[[noreturn]] void work(const ForkPool& pool, int fd, std::size_t first) {
  std::size_t task = first;
  const long pass = pool.reuse ? take_restore_point() : -1;
  if (pass > 0 && !read_task(fd, task)) ::_exit(0);
  char code = 0;
  std::string payload;
  try {
    payload = pool.child(task);
  } catch (const std::exception& e) {
    payload = e.what();
    code = kThrew;
  }
  const bool stays = pass >= 0 && can_return_to_restore_point();
  const auto size = static_cast<std::uint64_t>(payload.size());
  std::string answer(kHeader, '\0');
  answer[0] = static_cast<char>(code | (stays ? 0 : kLeaving));
  std::memcpy(answer.data() + 1, &size, sizeof size);
  answer += payload;
  write_all(fd, answer);
  if (stays) return_to_restore_point();
  ::_exit(0);
}

// A child that ended (its socket at end of file): reaped, and what its task
// (if it had one) comes to.
ChildOutcome reap(Worker& w) {
  ::close(w.fd);
  w.fd = -1;
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildOutcome o;
  if (WIFSIGNALED(status))
    o.error = fmt::format("died with signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    o.error = fmt::format("exited with status {}", WEXITSTATUS(status));
  else
    o.error = "returned no answer";
  return o;
}

// A whole answer at the front of w.in, taken off it.
bool take_answer(Worker& w, ChildOutcome& o) {
  if (w.in.size() < kHeader) return false;
  std::uint64_t size = 0;
  std::memcpy(&size, w.in.data() + 1, sizeof size);
  if (w.in.size() - kHeader < size) return false;
  const char code = static_cast<char>(w.in[0] & ~kLeaving);
  if (w.in[0] & kLeaving) w.leaving = true;
  o = ChildOutcome{};
  o.payload.assign(w.in, kHeader, static_cast<std::size_t>(size));
  w.in.erase(0, kHeader + static_cast<std::size_t>(size));
  if (code != 0)
    o.error = o.payload.empty() ? fmt::format("exited with status {}", static_cast<int>(code)) : o.payload;
  else if (o.payload.empty())
    o.error = "returned no answer";
  else
    o.ok = true;
  return true;
}

}  // namespace

std::size_t ForkPool::run(const std::vector<std::size_t>& tasks) const {
  std::vector<Worker> workers;
  std::vector<pollfd> pfds;
  std::size_t next = 0;
  const std::size_t width = jobs < 1 ? 1 : static_cast<std::size_t>(jobs);
  auto launching = [&] { return next < tasks.size() && !(stop && stop()); };
  for (;;) {
    // Tasks to the idle workers, then to new ones up to the width.
    for (auto& w : workers) {
      if (w.busy || w.leaving || !launching()) continue;
      if (!send_task(w.fd, tasks[next])) continue;  // it died: its end of file comes
      w.busy = true;
      w.task = tasks[next++];
    }
    while (workers.size() < width && launching()) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
      if (pid == 0) {
        if (child_heap) begin_child_heap(heap_pages);
        ::close(fds[0]);
        for (const auto& w : workers) ::close(w.fd);
        work(*this, fds[1], tasks[next]);
      }
      ::close(fds[1]);
      if (forked) ++*forked;
      Worker w;
      w.pid = pid;
      w.fd = fds[0];
      w.busy = true;
      w.task = tasks[next++];
      workers.push_back(std::move(w));
    }
    // Nothing more to give: the idle workers are told to leave.
    if (!launching())
      for (auto& w : workers)
        if (!w.busy && !w.leaving) {
          ::shutdown(w.fd, SHUT_WR);
          w.leaving = true;
        }
    if (workers.empty()) break;
    pfds.clear();
    for (const auto& w : workers) pfds.push_back(pollfd{w.fd, POLLIN, 0});
    const int n = ::poll(pfds.data(), pfds.size(), tick_ms);
    if (n < 0 && errno != EINTR) throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
    bool finished = false;
    for (std::size_t i = pfds.size(); i-- > 0;) {
      if (n <= 0 || !(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = workers[i];
      char buf[65536];
      const ssize_t got = ::read(w.fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        w.in.append(buf, static_cast<std::size_t>(got));
        ChildOutcome o;
        if (w.busy && take_answer(w, o)) {
          w.busy = false;
          if (done) done(w.task, std::move(o));
          finished = true;
        }
        continue;
      }
      ChildOutcome o = reap(w);
      const bool had_task = w.busy;
      const std::size_t task = w.task;
      workers.erase(workers.begin() + static_cast<std::ptrdiff_t>(i));
      if (had_task) {
        if (done) done(task, std::move(o));
        finished = true;
      }
    }
    if (tick && (finished || n == 0)) tick();
  }
  if (tick) tick();
  return next;
}

void reexec_binding_now(int argc, char** argv) {
  if (std::getenv("LD_BIND_NOW")) return;
  if (under_valgrind()) return;
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  if (::setenv("LD_BIND_NOW", "1", 1) != 0) return;
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv("/proc/self/exe", args.data());
  ::unsetenv("LD_BIND_NOW");  // the exec failed: carry on, lazily bound
}

}  // namespace qedisim
