// Error values returned across every trust boundary: a typed code an operator
// (and the HTTP layer's status table) can act on, plus a human message.
#pragma once

#include <string>
#include <string_view>

namespace vouchsafe {

enum class ErrorCode {
  // Input that is not what it claims to be.
  malformed_der,
  malformed_cbor,
  malformed_json,
  malformed_base64,
  input_too_large,
  nesting_too_deep,
  // Envelope problems.
  unknown_form,
  wrong_content_type,
  unsupported_algorithm,
  bad_signature,
  unknown_signer,
  untrusted_chain,
  // Payload (YANG) problems.
  missing_leaf,
  unknown_leaf,
  duplicate_member,
  wrong_type,
  invalid_value,
  invalid_date,
  nonce_with_expiry,
  // Local environment problems.
  io_error,
  bad_key,
  bad_passphrase,
  usage,
  internal,
};

// Stable snake_case name of a code, used in CLI JSON output and logs.
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

}  // namespace vouchsafe
