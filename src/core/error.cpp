// Names of error codes.
#include "core/error.h"

namespace vouchsafe {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::malformed_der:
      return "malformed_der";
    case ErrorCode::malformed_cbor:
      return "malformed_cbor";
    case ErrorCode::malformed_json:
      return "malformed_json";
    case ErrorCode::malformed_base64:
      return "malformed_base64";
    case ErrorCode::input_too_large:
      return "input_too_large";
    case ErrorCode::nesting_too_deep:
      return "nesting_too_deep";
    case ErrorCode::unknown_form:
      return "unknown_form";
    case ErrorCode::wrong_content_type:
      return "wrong_content_type";
    case ErrorCode::unsupported_algorithm:
      return "unsupported_algorithm";
    case ErrorCode::bad_signature:
      return "bad_signature";
    case ErrorCode::unknown_signer:
      return "unknown_signer";
    case ErrorCode::untrusted_chain:
      return "untrusted_chain";
    case ErrorCode::missing_leaf:
      return "missing_leaf";
    case ErrorCode::unknown_leaf:
      return "unknown_leaf";
    case ErrorCode::duplicate_member:
      return "duplicate_member";
    case ErrorCode::wrong_type:
      return "wrong_type";
    case ErrorCode::invalid_value:
      return "invalid_value";
    case ErrorCode::invalid_date:
      return "invalid_date";
    case ErrorCode::nonce_with_expiry:
      return "nonce_with_expiry";
    case ErrorCode::io_error:
      return "io_error";
    case ErrorCode::bad_key:
      return "bad_key";
    case ErrorCode::bad_passphrase:
      return "bad_passphrase";
    case ErrorCode::usage:
      return "usage";
    case ErrorCode::internal:
      return "internal";
  }
  return "unknown";
}

}  // namespace vouchsafe
