#include "sim/isolated_run.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "sim/explore/child_heap.h"
#include "sim/explore/pipe_io.h"
#include "sim/report/report.h"

namespace qedisim {

RunResult run_in_child(const Scenario& scenario, const RunOptions& options) {
  int fds[2];
  if (::pipe(fds) != 0) throw InternalError(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw InternalError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    begin_child_heap(HeapPages::populate_ahead);  // one whole simulation: it touches every page it passes
    ::close(fds[0]);
    int code = 0;
    std::string payload;
    try {
      payload = result_to_json(run_simulation(scenario, options)).dump();
    } catch (const std::exception& e) {
      payload = nlohmann::json{{"error", e.what()}}.dump();
      code = 3;
    }
    write_all(fds[1], payload);
    ::close(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string payload;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    payload.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    throw InternalError(
        fmt::format("simulation child died with signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status))));
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InternalError("simulation child returned no result");
  if (j.contains("error")) throw InternalError(j["error"].get<std::string>());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InternalError(fmt::format("simulation child exited with status {}", WEXITSTATUS(status)));
  return result_from_json(j);
}

}  // namespace qedisim
