#pragma once
// Result<T>: a value or an Error, the return type of every fallible call that crosses a
// folder boundary. Mirrors the surface of std::expected so it can be swapped later.

#include <utility>
#include <variant>

#include "core/check.h"
#include "core/error.h"

namespace herald {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    HERALD_CHECK(has_value(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  const T& value() const& {
    HERALD_CHECK(has_value(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    HERALD_CHECK(has_value(), "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    HERALD_CHECK(!has_value(), "Result::error() on a value");
    return std::get<1>(state_);
  }
  Error&& error() && {
    HERALD_CHECK(!has_value(), "Result::error() on a value");
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    HERALD_CHECK(!ok_, "Result::error() on success");
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace herald

// Propagates an error from an expression returning Result<...>.
// The local's name carries the line number, so a HERALD_TRY inside a lambda inside another
// HERALD_TRY does not shadow the outer one.
#define HERALD_TRY(expr) HERALD_TRY_AT_(expr, __LINE__)
#define HERALD_TRY_AT_(expr, line) HERALD_TRY_CAT_(expr, line)  // expands __LINE__ first
#define HERALD_TRY_CAT_(expr, line) HERALD_TRY_NAMED_(expr, herald_try_result_##line)
#define HERALD_TRY_NAMED_(expr, name)  \
  do {                                 \
    auto name = (expr);                \
    if (!name) return name.error();    \
  } while (false)
