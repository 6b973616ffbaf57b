// CBOR encoding of vouchers and voucher-requests with SID delta keys
// (draft-ietf-anima-constrained-voucher, 8366bis SID tables).
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/model.h"

namespace vouchsafe::voucher {

struct CborLimits {
  std::size_t max_depth = 16;
};

// Decodes {2451: {...}} / {2501: {...}}; inner keys are SID deltas (unsigned
// integers) or leaf names (text); the top-level key may also be the module
// member name. Enums are integers, binary leaves byte strings, dates text.
// Strict: duplicate keys, unknown keys, wrong types and trailing bytes are
// errors. Bounded in depth and size; never crashes on any input.
Result<Voucher> decode_cbor(ByteView data, const CborLimits& limits = {});

// Encodes with SID delta keys, in ascending key order (deterministic).
Bytes encode_cbor(const Voucher& v);

}  // namespace vouchsafe::voucher
