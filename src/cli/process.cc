#include "cli/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern char** environ;

namespace herald::cli {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads both pipes until both reach end of file.
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<char, 65536> buffer{};
  int open = 2;
  while (open > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        (i == 0 ? out : err).append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return invalid_argument("run_process: no program");
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (!options.echo && (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
    close_fd(out_pipe[0]);
    close_fd(out_pipe[1]);
    return unavailable("cannot make a pipe for " + argv[0] + ": " + std::strerror(errno));
  }
  int status_pipe[2] = {-1, -1};  // the child writes errno here when exec fails
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1]}) close_fd(*fd);
    return unavailable("cannot make a pipe: " + std::string(std::strerror(errno)));
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls follow it.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& n : options.unset_env) replaced = replaced || n == name;
    for (const auto& [n, v] : options.env) replaced = replaced || n == name;
    if (!replaced) environment.emplace_back(entry);
  }
  for (const auto& [name, value] : options.env) environment.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return unavailable("cannot start " + argv[0] + ": " + std::strerror(errno));
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    if (!options.echo) {
      ::dup2(out_pipe[1], 1);
      ::dup2(err_pipe[1], 2);
    }
    int failure = 0;
    if (!options.directory.empty() && ::chdir(options.directory.c_str()) != 0) failure = errno;
    if (failure == 0) {
      ::execvpe(args[0], args.data(), envp.data());
      failure = errno;
    }
    [[maybe_unused]] const auto written = ::write(status_pipe[1], &failure, sizeof failure);
    ::_exit(127);
  }
  close_fd(status_pipe[1]);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  ProcessResult result;
  if (!options.echo) drain(out_pipe[0], err_pipe[0], result.out, result.err);
  close_fd(out_pipe[0]);
  close_fd(err_pipe[0]);
  int child_errno = 0;
  const bool exec_failed = ::read(status_pipe[0], &child_errno, sizeof child_errno) == sizeof child_errno;
  close_fd(status_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) {
    return unavailable("cannot run " + argv[0] + ": " + std::strerror(child_errno) +
                       (options.directory.empty() ? "" : " (in " + options.directory + ")"));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<std::string> run_checked(const std::vector<std::string>& argv, const ProcessOptions& options) {
  auto result = run_process(argv, options);
  if (!result) return result.error();
  if (result->exit_code != 0) {
    std::string tail = result->err.size() > 2000 ? result->err.substr(result->err.size() - 2000) : result->err;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
    std::string command = argv[0];
    if (argv.size() > 1) command += " " + argv[1];
    return failed_precondition(command + " failed (exit " + std::to_string(result->exit_code) + ")" +
                               (tail.empty() ? "" : ": " + tail));
  }
  return std::move(result->out);
}

}  // namespace herald::cli
