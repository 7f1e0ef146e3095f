#pragma once
// Running another program and waiting for it: git, cmake and cpack for `herald release build`,
// dpkg-query for the SBOM. The arguments go to execvp as they are (no shell, so nothing in them
// is interpreted); stdin is /dev/null; stdout and stderr are captured, or passed through to
// Herald's own when `echo` is set (a long build's progress).

#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace herald::cli {

struct ProcessOptions {
  std::string directory;                                 // working directory; "" = Herald's own
  std::vector<std::pair<std::string, std::string>> env;  // set (or, with an empty value, kept empty) on top of Herald's
  std::vector<std::string> unset_env;                    // removed from the environment
  bool echo = false;                                     // pass output through instead of capturing it
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// kUnavailable only when the program cannot be started at all; a program that runs and fails is
// a ProcessResult with its exit code.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// run_process, then kFailedPrecondition ("<program> failed (exit N): <last lines of stderr>")
// unless it exits 0; the captured stdout otherwise.
Result<std::string> run_checked(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace herald::cli
