// The voucher (RFC 8366 / draft-ietf-anima-rfc8366bis) and voucher-request
// (RFC 8995 §3, now ietf-voucher-request in 8366bis) as one typed model.
//
// Both YANG modules share the voucher-artifact grouping; the request adds
// its own leaves. One struct carries every leaf of either, and `kind` says
// which module the instance belongs to: codecs refuse a leaf the kind lacks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/date_time.h"
#include "core/result.h"

namespace vouchsafe::voucher {

enum class ArtifactKind { voucher, voucher_request };

// RFC 8366bis assertion enum; the numbers are the CBOR encodings.
enum class Assertion { verified = 0, logged = 1, proximity = 2, agent_proximity = 3 };

std::string_view assertion_name(Assertion a);
Result<Assertion> parse_assertion(std::string_view name);

// An entry of the extensions leaf-list: a SID (CBOR) or a name.
using ExtensionName = std::variant<std::uint64_t, std::string>;

// The enrolling voucher (docs/enrolling-voucher.md), an 8366bis extension
// of ours: YANG module "vouchsafe-enrolling", container "enrolling", with
// SIDs from the experimental range (RFC 9595: 60000..99999). In JSON the
// member "vouchsafe-enrolling:enrolling"; in CBOR the key tag 47 (an
// absolute SID, RFC 9254 §3.2) of the container.
struct EnrollingExtension {
  Bytes device_key;       // SubjectPublicKeyInfo of X, the device's key
  Bytes encrypted_share;  // y sealed to X (crypto/ecies.h)
  Bytes ldevid;           // DER certificate for Z = X + Y

  bool operator==(const EnrollingExtension&) const = default;
};
inline constexpr std::string_view k_enrolling_module = "vouchsafe-enrolling";
inline constexpr std::string_view k_enrolling_member = "vouchsafe-enrolling:enrolling";
inline constexpr std::uint64_t k_enrolling_sid = 61001;  // the container; leaves 61002..61004

struct Voucher {
  ArtifactKind kind = ArtifactKind::voucher;

  // voucher-artifact grouping (ietf-voucher).
  std::optional<DateTime> created_on;
  std::optional<DateTime> expires_on;
  std::optional<Assertion> assertion;
  std::optional<std::string> serial_number;
  std::optional<Bytes> idevid_issuer;
  std::optional<Bytes> pinned_domain_cert;  // DER certificate
  std::optional<bool> domain_cert_revocation_checks;
  std::optional<Bytes> nonce;
  // The nonce's text exactly as a JSON payload spelled it (empty when the
  // nonce came from CBOR or was set in code). RFC 7951 says base64, but
  // pledges send base64url, unpadded base64 or opaque text, and a pledge
  // compares the voucher's nonce with its own as text (SPEC.md §1), so a
  // voucher carries the pledge's spelling back unchanged. Nonces are
  // compared by their bytes: the spelling never makes two vouchers differ.
  struct NonceSpelling {
    std::string text;
    bool operator==(const NonceSpelling& /*other*/) const { return true; }
  };
  NonceSpelling nonce_spelling;
  std::optional<DateTime> last_renewal_date;
  std::optional<Bytes> pinned_domain_pubk;  // SubjectPublicKeyInfo DER
  std::optional<Bytes> pinned_domain_pubk_sha256;
  std::optional<std::string> est_domain;
  std::optional<std::string> additional_configuration_url;
  std::optional<std::vector<ExtensionName>> extensions;
  std::optional<Bytes> manufacturer_proprietary;

  // ietf-voucher-request only.
  std::optional<Bytes> prior_signed_voucher_request;  // the whole signed PVR
  std::optional<Bytes> proximity_registrar_cert;
  std::optional<Bytes> proximity_registrar_pubk;
  std::optional<Bytes> proximity_registrar_pubk_sha256;
  std::optional<Bytes> agent_signed_data;
  std::optional<Bytes> agent_provided_proximity_registrar_cert;
  std::optional<std::vector<Bytes>> agent_sign_cert;  // BRSKI-PRM sends a list

  // Extensions of ours, in either module (listed in `extensions` when
  // encoded).
  std::optional<EnrollingExtension> enrolling;

  bool operator==(const Voucher&) const = default;
};

// YANG type of a leaf, which decides its JSON and CBOR encodings.
enum class LeafType { date_time, assertion, string, binary, boolean, extensions, binary_list };

struct LeafInfo {
  std::string_view name;  // RFC 7951 member name
  LeafType type;
  int voucher_sid_delta;  // SID - 2451 in ietf-voucher, 0 if absent there
  int request_sid_delta;  // SID - 2501 in ietf-voucher-request, 0 if absent
  [[nodiscard]] int sid_delta(ArtifactKind kind) const {
    return kind == ArtifactKind::voucher ? voucher_sid_delta : request_sid_delta;
  }
};

constexpr int k_voucher_sid = 2451;
constexpr int k_voucher_request_sid = 2501;
constexpr std::string_view k_voucher_member = "ietf-voucher:voucher";
constexpr std::string_view k_voucher_request_member = "ietf-voucher-request:voucher";

// Calls f(const LeafInfo&, member&) for every leaf, in YANG order. The codecs
// are written once against this, so the leaf table lives in one place.
template <typename V, typename F>
void for_each_leaf(V& v, F&& f) {
  // SID deltas from SPEC.md §1 (8366bis .sid files).
  f(LeafInfo{"assertion", LeafType::assertion, 1, 1}, v.assertion);
  f(LeafInfo{"created-on", LeafType::date_time, 2, 2}, v.created_on);
  f(LeafInfo{"domain-cert-revocation-checks", LeafType::boolean, 3, 3},
    v.domain_cert_revocation_checks);
  f(LeafInfo{"expires-on", LeafType::date_time, 4, 4}, v.expires_on);
  f(LeafInfo{"idevid-issuer", LeafType::binary, 5, 5}, v.idevid_issuer);
  f(LeafInfo{"last-renewal-date", LeafType::date_time, 6, 6}, v.last_renewal_date);
  f(LeafInfo{"nonce", LeafType::binary, 7, 7}, v.nonce);
  f(LeafInfo{"pinned-domain-cert", LeafType::binary, 8, 8}, v.pinned_domain_cert);
  f(LeafInfo{"pinned-domain-pubk", LeafType::binary, 9, 17}, v.pinned_domain_pubk);
  f(LeafInfo{"pinned-domain-pubk-sha256", LeafType::binary, 10, 18}, v.pinned_domain_pubk_sha256);
  f(LeafInfo{"serial-number", LeafType::string, 11, 13}, v.serial_number);
  f(LeafInfo{"additional-configuration-url", LeafType::string, 12, 19},
    v.additional_configuration_url);
  f(LeafInfo{"est-domain", LeafType::string, 13, 20}, v.est_domain);
  f(LeafInfo{"manufacturer-proprietary", LeafType::binary, 14, 22}, v.manufacturer_proprietary);
  f(LeafInfo{"extensions", LeafType::extensions, 15, 21}, v.extensions);
  f(LeafInfo{"prior-signed-voucher-request", LeafType::binary, 0, 9},
    v.prior_signed_voucher_request);
  f(LeafInfo{"proximity-registrar-cert", LeafType::binary, 0, 10}, v.proximity_registrar_cert);
  f(LeafInfo{"proximity-registrar-pubk-sha256", LeafType::binary, 0, 11},
    v.proximity_registrar_pubk_sha256);
  f(LeafInfo{"proximity-registrar-pubk", LeafType::binary, 0, 12}, v.proximity_registrar_pubk);
  f(LeafInfo{"agent-provided-proximity-registrar-cert", LeafType::binary, 0, 14},
    v.agent_provided_proximity_registrar_cert);
  f(LeafInfo{"agent-sign-cert", LeafType::binary_list, 0, 15}, v.agent_sign_cert);
  f(LeafInfo{"agent-signed-data", LeafType::binary, 0, 16}, v.agent_signed_data);
}

// Checks the constraints no single leaf can: serial-number present, no
// request-only leaf in a voucher, nonce and expires-on not both in a
// voucher (RFC 8366 §5.3), nonce length 8..32 (8366bis YANG).
Status validate(const Voucher& v);

}  // namespace vouchsafe::voucher
