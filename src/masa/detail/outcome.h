// Outcome<T>: a value or the MASA refusal that ends the request, the shape
// of core/outcome.h with the MASA's errors. Every validation step returns
// one, so the step that refuses names its own error.
#pragma once

#include <string>
#include <utility>

#include "core/outcome.h"
#include "masa/status_table.h"

namespace vouchsafe::masa::detail {

// Its detail is about the caller's input only: it is shown to the caller.
using Refusal = ::vouchsafe::Refusal<MasaError>;

inline Refusal refuse(MasaError error, std::string detail = {}) {
  return ::vouchsafe::refuse(error, std::move(detail));
}

template <typename T>
using Outcome = ::vouchsafe::Outcome<T, MasaError>;

// A step that produces nothing: no refusal means go on.
using Check = ::vouchsafe::Check<MasaError>;

}  // namespace vouchsafe::masa::detail

// MASA_CHECK(expr): return the refusal of a failed Check.
#define MASA_CHECK(expr) CHECK_OR_REFUSE(expr)

// MASA_ASSIGN(lhs, expr): declare/assign lhs from an Outcome's value.
#define MASA_ASSIGN(lhs, expr) ASSIGN_OR_REFUSE(lhs, expr)
