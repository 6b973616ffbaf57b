// Outcome<T, E>: a value or the named refusal (an error enum E and a detail
// an operator can act on) that ends a protocol exchange, for services whose
// refusals map to a status table (the MASA, the registrar, the pledge).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/result.h"

namespace vouchsafe {

template <typename E>
struct Refusal {
  E error;
  std::string detail;  // about the caller's input or the step that failed
};

template <typename E>
Refusal<E> refuse(E error, std::string detail = {}) {
  return Refusal<E>{error, std::move(detail)};
}

template <typename T, typename E>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}   // NOLINT: implicit
  Outcome(Refusal<E> r) : state_(std::in_place_index<1>, std::move(r)) {}  // NOLINT: implicit

  [[nodiscard]] bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  [[nodiscard]] const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  [[nodiscard]] const Refusal<E>& refusal() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  Refusal<E>&& refusal() && {
    assert(!has_value());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Refusal<E>> state_;
};

// A step that produces nothing: no refusal means go on.
template <typename E>
using Check = std::optional<Refusal<E>>;

}  // namespace vouchsafe

// CHECK_OR_REFUSE(expr): return the refusal of a failed Check.
#define CHECK_OR_REFUSE(expr)        \
  do {                               \
    if (auto vs_refusal = (expr)) {  \
      return std::move(*vs_refusal); \
    }                                \
  } while (false)

// ASSIGN_OR_REFUSE(lhs, expr): declare/assign lhs from an Outcome's value.
#define ASSIGN_OR_REFUSE(lhs, expr) \
  VS_ASSIGN_OR_REFUSE_IMPL(VS_CONCAT(vs_outcome_, __LINE__), lhs, expr)
#define VS_ASSIGN_OR_REFUSE_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.has_value()) {                        \
    return std::move(tmp).refusal();             \
  }                                              \
  lhs = std::move(tmp).value()
