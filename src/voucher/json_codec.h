// JSON encoding of vouchers and voucher-requests (RFC 7951 names and types).
#pragma once

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/model.h"

namespace vouchsafe::voucher {

struct JsonLimits {
  std::size_t max_depth = 16;
};

// Parses {"ietf-voucher:voucher": {...}} or {"ietf-voucher-request:voucher": {...}}.
// Strict: duplicate members, unknown leaves and wrong JSON types are errors.
// Tolerated, because published examples use them: booleans written as the
// strings "true"/"false"; nonces in base64url or as opaque text.
Result<Voucher> decode_json(ByteView text, const JsonLimits& limits = {});

// Parses JSON text into a DOM with the same strictness (duplicates, depth).
Result<nlohmann::json> parse_strict_json(ByteView text, std::size_t max_depth);

nlohmann::json to_json(const Voucher& v);
// The nonce (which must be set) as the JSON encoding writes it: as it was
// spelled when read (Voucher::nonce_spelling), else base64.
std::string json_nonce_text(const Voucher& v);
Bytes encode_json(const Voucher& v);  // compact, as signed

}  // namespace vouchsafe::voucher
