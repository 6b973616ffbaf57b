// Cross-leaf checks of the voucher model.
#include "voucher/model.h"

namespace vouchsafe::voucher {

std::string_view assertion_name(Assertion a) {
  switch (a) {
    case Assertion::verified:
      return "verified";
    case Assertion::logged:
      return "logged";
    case Assertion::proximity:
      return "proximity";
    case Assertion::agent_proximity:
      return "agent-proximity";
  }
  return "";
}

Result<Assertion> parse_assertion(std::string_view name) {
  if (name == "verified") return Assertion::verified;
  if (name == "logged") return Assertion::logged;
  if (name == "proximity") return Assertion::proximity;
  if (name == "agent-proximity") return Assertion::agent_proximity;
  return fail(ErrorCode::invalid_value,
              "assertion '" + std::string(name.substr(0, 40)) +
                  "' is not one of verified, logged, proximity, agent-proximity");
}

Status validate(const Voucher& v) {
  const bool is_voucher = v.kind == ArtifactKind::voucher;
  std::string misplaced;
  for_each_leaf(v, [&](const LeafInfo& leaf, const auto& member) {
    if (member.has_value() && leaf.sid_delta(v.kind) == 0 && misplaced.empty()) {
      misplaced = leaf.name;
    }
  });
  if (!misplaced.empty()) {
    return fail(ErrorCode::unknown_leaf, "leaf '" + misplaced +
                                             "' belongs to the voucher-request, "
                                             "not the voucher");
  }
  if (!v.serial_number)
    return fail(ErrorCode::missing_leaf, "mandatory leaf 'serial-number' is missing");
  if (v.serial_number->empty()) return fail(ErrorCode::invalid_value, "serial-number is empty");
  // RFC 8366 §5.3: "nonce" and "expires-on" are mutually exclusive.
  if (is_voucher && v.nonce && v.expires_on) {
    return fail(ErrorCode::nonce_with_expiry,
                "a voucher carries either a nonce or expires-on, not both (RFC 8366 §5.3)");
  }
  // 8366bis YANG: nonce is binary { length "8..32"; }.
  if (v.nonce && (v.nonce->size() < 8 || v.nonce->size() > 32)) {
    return fail(ErrorCode::invalid_value,
                "nonce must be 8 to 32 bytes, got " + std::to_string(v.nonce->size()));
  }
  if (v.enrolling && (v.enrolling->device_key.empty() || v.enrolling->encrypted_share.empty() ||
                      v.enrolling->ldevid.empty())) {
    return fail(ErrorCode::missing_leaf,
                "the enrolling extension needs device-key, encrypted-share and ldevid");
  }
  return ok();
}

}  // namespace vouchsafe::voucher
