// Result<T>: a value or an Error, with the std::expected API subset we use
// (g++ 12 has no std::expected), and TRY / ASSIGN_OR_RETURN propagation.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace vouchsafe {

// Wraps an Error so that `return fail(...)` converts to any Result<T>.
struct Unexpected {
  Error error;
};

inline Unexpected fail(ErrorCode code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}
inline Unexpected fail(Error error) {
  return Unexpected{std::move(error)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected u) : state_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  [[nodiscard]] bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  [[nodiscard]] T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  [[nodiscard]] const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  [[nodiscard]] T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  [[nodiscard]] Error&& error() && {
    assert(!has_value());
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
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::internal, {}};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() {
  return {};
}

}  // namespace vouchsafe

#define VS_CONCAT_INNER(a, b) a##b
#define VS_CONCAT(a, b) VS_CONCAT_INNER(a, b)

// TRY(expr): return the error of a failed Result/Status, else continue.
#define TRY(expr)                                                 \
  do {                                                            \
    auto&& vs_try_result = (expr);                                \
    if (!vs_try_result.has_value()) {                             \
      return ::vouchsafe::fail(std::move(vs_try_result).error()); \
    }                                                             \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): declare/assign lhs from a Result's value.
#define ASSIGN_OR_RETURN(lhs, expr) \
  VS_ASSIGN_OR_RETURN_IMPL(VS_CONCAT(vs_result_, __LINE__), lhs, expr)
#define VS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)      \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) {                             \
    return ::vouchsafe::fail(std::move(tmp).error()); \
  }                                                   \
  lhs = std::move(tmp).value()
