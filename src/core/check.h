#pragma once
// HERALD_CHECK: aborts with a message when a program invariant is broken. Never use it on
// data that came from outside the process (docs/architecture.md, "Conventions").

namespace herald::detail {
[[noreturn]] void check_failed(const char* condition, const char* message, const char* file,
                               int line);
}  // namespace herald::detail

#define HERALD_CHECK(condition, message)                                            \
  do {                                                                              \
    if (!(condition)) ::herald::detail::check_failed(#condition, message, __FILE__, __LINE__); \
  } while (false)
