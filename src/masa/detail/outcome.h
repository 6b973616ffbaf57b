// Outcome<T>: a value or the MASA refusal that ends the request, with the
// same propagation style as core/result.h. Every validation step returns
// one, so the step that refuses names its own error.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/result.h"
#include "masa/status_table.h"

namespace vouchsafe::masa::detail {

struct Refusal {
  MasaError error;
  std::string detail;  // about the caller's input only; shown to the caller
};

inline Refusal refuse(MasaError error, std::string detail = {}) {
  return Refusal{error, std::move(detail)};
}

template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Outcome(Refusal r) : state_(std::in_place_index<1>, std::move(r)) {}    // NOLINT: implicit

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
  [[nodiscard]] const Refusal& refusal() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  Refusal&& refusal() && {
    assert(!has_value());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Refusal> state_;
};

// A step that produces nothing: no refusal means go on.
using Check = std::optional<Refusal>;

}  // namespace vouchsafe::masa::detail

// MASA_CHECK(expr): return the refusal of a failed Check.
#define MASA_CHECK(expr)                                                      \
  do {                                                                        \
    if (auto vs_masa_refusal = (expr)) {                                      \
      return ::vouchsafe::masa::detail::Refusal{std::move(*vs_masa_refusal)}; \
    }                                                                         \
  } while (false)

// MASA_ASSIGN(lhs, expr): declare/assign lhs from an Outcome's value.
#define MASA_ASSIGN(lhs, expr) VS_MASA_ASSIGN_IMPL(VS_CONCAT(vs_masa_outcome_, __LINE__), lhs, expr)
#define VS_MASA_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                        \
  if (!tmp.has_value()) {                   \
    return std::move(tmp).refusal();        \
  }                                         \
  lhs = std::move(tmp).value()
