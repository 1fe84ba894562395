#include "sim/explore/fork_pool.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "sim/explore/child_heap.h"
#include "sim/explore/instrumented.h"
#include "sim/explore/pipe_io.h"

namespace qedisim {

namespace {

struct Slot {
  pid_t pid = -1;
  int fd = -1;
  std::size_t task = 0;
  std::string payload;
};

ChildOutcome reap(Slot& slot) {
  ::close(slot.fd);
  int status = 0;
  while (::waitpid(slot.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildOutcome o;
  o.payload = std::move(slot.payload);
  if (WIFSIGNALED(status)) {
    o.error = fmt::format("died with signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    o.error = o.payload.empty() ? fmt::format("exited with status {}", WEXITSTATUS(status)) : o.payload;
  } else if (o.payload.empty()) {
    o.error = "returned no answer";
  } else {
    o.ok = true;
  }
  return o;
}

}  // namespace

std::size_t ForkPool::run(const std::vector<std::size_t>& tasks) const {
  std::vector<Slot> active;
  std::size_t next = 0;
  const int width = jobs < 1 ? 1 : jobs;
  for (;;) {
    while (static_cast<int>(active.size()) < width && next < tasks.size() && !(stop && stop())) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
      if (pid == 0) {
        begin_child_heap();
        ::close(fds[0]);
        for (const auto& s : active) ::close(s.fd);
        int code = 0;
        std::string payload;
        try {
          payload = child(tasks[next]);
        } catch (const std::exception& e) {
          payload = e.what();
          code = 3;
        }
        write_all(fds[1], payload);
        ::close(fds[1]);
        ::_exit(code);
      }
      ::close(fds[1]);
      active.push_back(Slot{pid, fds[0], tasks[next], {}});
      ++next;
    }
    if (active.empty()) break;
    std::vector<pollfd> pfds;
    pfds.reserve(active.size());
    for (const auto& s : active) pfds.push_back(pollfd{s.fd, POLLIN, 0});
    const int n = ::poll(pfds.data(), pfds.size(), tick_ms);
    if (n < 0 && errno != EINTR) throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
    bool finished = false;
    for (std::size_t i = pfds.size(); i-- > 0;) {
      if (n <= 0 || !(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t got = ::read(active[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        active[i].payload.append(buf, static_cast<std::size_t>(got));
        continue;
      }
      Slot slot = std::move(active[i]);
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(i));
      ChildOutcome o = reap(slot);
      if (done) done(slot.task, std::move(o));
      finished = true;
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
