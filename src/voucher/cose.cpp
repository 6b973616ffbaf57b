// COSE_Sign1 (RFC 9052 §4.2) signing and verification for cBRSKI vouchers
// and voucher-requests (draft-ietf-anima-constrained-voucher, "cBRSKI").
#include "voucher/cose.h"

#include <openssl/evp.h>

#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "crypto/signature.h"
#include "voucher/detail/cbor_handle.h"

namespace vouchsafe::voucher {
namespace {

using detail::CborItemPtr;
using detail::CborWriter;

constexpr std::uint64_t k_cose_sign1_tag = 18;  // RFC 9052 §2
constexpr std::int64_t k_label_alg = 1;         // RFC 9052 §3.1
constexpr std::int64_t k_label_crit = 2;
constexpr std::int64_t k_label_kid = 4;
constexpr std::int64_t k_label_x5bag = 32;    // RFC 9360 §2
constexpr std::int64_t k_label_x5chain = 33;  // RFC 9360 §2
constexpr std::string_view k_signature1_context = "Signature1";
// tag, message array, header map, certificate array, plus slack for the
// values of header parameters we ignore.
constexpr std::size_t k_max_depth = 8;
// An x5bag holds a signer's chain; more than this is an attack, not a PKI.
constexpr std::size_t k_max_certificates = 16;

// RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected,
// external_aad, payload], with no external AAD in cBRSKI (h'').
Bytes sig_structure(ByteView protected_header, ByteView payload) {
  Bytes out;
  out.reserve(2 + k_signature1_context.size() + CborWriter::head_size(protected_header.size()) +
              protected_header.size() + 1 + CborWriter::head_size(payload.size()) + payload.size());
  CborWriter w(out);
  w.array(4);
  w.text_string(k_signature1_context);
  w.byte_string(protected_header);
  w.byte_string({});
  w.byte_string(payload);
  return out;
}

Unexpected not_cose(const std::string& why) {
  return fail(ErrorCode::malformed_cbor, "not a COSE_Sign1: " + why);
}

// RFC 9052 §3: label = int / tstr.
using Label = std::variant<std::int64_t, std::string_view>;

Result<Label> read_label(const cbor_item_t* key) {
  if (cbor_isa_uint(key) || cbor_isa_negint(key)) {
    const std::uint64_t raw = cbor_get_int(key);
    if (raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return not_cose("header label out of range");
    }
    const auto magnitude = static_cast<std::int64_t>(raw);
    return Label{cbor_isa_uint(key) ? magnitude : -1 - magnitude};
  }
  if (cbor_isa_string(key)) {
    return Label{std::string_view(reinterpret_cast<const char*>(cbor_string_handle(key)),
                                  cbor_string_length(key))};
  }
  return not_cose("a header label must be an integer or text (RFC 9052 §3)");
}

std::string label_text(const Label& label) {
  if (const auto* n = std::get_if<std::int64_t>(&label)) return std::to_string(*n);
  return "'" + std::string(std::get<std::string_view>(label).substr(0, 32)) + "'";
}

ByteView bytes_of(const cbor_item_t* item) {
  return {cbor_bytestring_handle(item), cbor_bytestring_length(item)};
}

// What the two header buckets say, as views into the decoded items.
struct Headers {
  std::vector<Label> labels;  // every label seen, in either bucket
  std::optional<crypto::SignatureAlgorithm> alg;
  std::vector<ByteView> certificates;
  const cbor_item_t* crit = nullptr;
};

Status read_algorithm(const cbor_item_t* value, Headers& headers) {
  if (cbor_isa_string(value)) {
    return fail(ErrorCode::unsupported_algorithm, "unsupported COSE alg given as text");
  }
  if (!cbor_isa_uint(value) && !cbor_isa_negint(value)) return not_cose("alg must be an integer");
  const std::uint64_t raw = cbor_get_int(value);
  if (raw > 0xFFFFFFFFU) return fail(ErrorCode::unsupported_algorithm, "unsupported COSE alg");
  const auto magnitude = static_cast<long long>(raw);
  ASSIGN_OR_RETURN(headers.alg,
                   crypto::from_cose_id(cbor_isa_uint(value) ? magnitude : -1 - magnitude));
  return ok();
}

// RFC 9360 §2: COSE_X509 = bstr / [ 2*certs: bstr ]. A one-element array is
// accepted too; nothing is lost by tolerating it.
Status read_certificates(const cbor_item_t* value, Headers& headers) {
  if (cbor_isa_bytestring(value)) {
    headers.certificates.push_back(bytes_of(value));
  } else if (cbor_isa_array(value)) {
    const std::size_t n = cbor_array_size(value);
    cbor_item_t** elements = cbor_array_handle(value);
    for (std::size_t i = 0; i < n; ++i) {
      if (!cbor_isa_bytestring(elements[i])) {
        return not_cose("x5bag/x5chain entries must be byte strings");
      }
      headers.certificates.push_back(bytes_of(elements[i]));
    }
  } else {
    return not_cose("x5bag/x5chain must be a byte string or an array of them");
  }
  if (headers.certificates.size() > k_max_certificates) {
    return fail(ErrorCode::input_too_large,
                "more than " + std::to_string(k_max_certificates) + " certificates in the headers");
  }
  return ok();
}

Status read_headers(const cbor_item_t* map, bool is_protected, Headers& headers) {
  const std::size_t n = cbor_map_size(map);
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(const Label label, read_label(pairs[i].key));
    // RFC 9052 §3: labels are unique within a map and "MUST NOT occur in
    // both the protected and unprotected header".
    for (const Label& seen : headers.labels) {
      if (seen == label) {
        return fail(ErrorCode::duplicate_member,
                    "COSE header label " + label_text(label) + " appears twice");
      }
    }
    headers.labels.push_back(label);
    const auto* number = std::get_if<std::int64_t>(&label);
    if (number == nullptr) continue;  // text labels are private use; ignored
    const cbor_item_t* value = pairs[i].value;
    switch (*number) {
      case k_label_alg:
        // RFC 9052 §3.1: alg "MUST be authenticated where the ability to do
        // so exists", i.e. sit in the protected bucket of a signed message.
        if (!is_protected) {
          return fail(ErrorCode::unsupported_algorithm, "alg is in the unprotected header");
        }
        TRY(read_algorithm(value, headers));
        break;
      case k_label_crit:
        if (!is_protected) return not_cose("crit is in the unprotected header (RFC 9052 §3.1)");
        if (!cbor_isa_array(value) || cbor_array_size(value) == 0) {
          return not_cose("crit must be a non-empty array of labels");
        }
        headers.crit = value;
        break;
      case k_label_kid:
        if (!cbor_isa_bytestring(value)) return not_cose("kid must be a byte string");
        break;
      case k_label_x5bag:
      case k_label_x5chain:
        TRY(read_certificates(value, headers));
        break;
      default:
        break;  // RFC 9052 §3: unknown non-critical parameters are ignored
    }
  }
  return ok();
}

// RFC 9052 §3.1: a recipient MUST reject the message when a label listed in
// crit is not understood. We act on alg, kid, x5bag and x5chain only.
Status check_critical(const Headers& headers) {
  if (headers.crit == nullptr) return ok();
  const std::size_t n = cbor_array_size(headers.crit);
  cbor_item_t** elements = cbor_array_handle(headers.crit);
  for (std::size_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(const Label label, read_label(elements[i]));
    const auto* number = std::get_if<std::int64_t>(&label);
    const bool understood =
        number != nullptr && (*number == k_label_alg || *number == k_label_kid ||
                              *number == k_label_x5bag || *number == k_label_x5chain);
    if (!understood) {
      return fail(ErrorCode::unsupported_algorithm,
                  "critical COSE header parameter " + label_text(label) + " is not supported");
    }
  }
  return ok();
}

// The signature over Sig_structure with one key, refusing a key that cannot
// make signatures of the algorithm the protected header names (so an ES384
// header cannot be checked with a P-256 key, nor EdDSA with an EC key).
Status verify_with(EVP_PKEY* key, crypto::SignatureAlgorithm alg, ByteView to_be_signed,
                   ByteView signature) {
  auto key_alg = crypto::algorithm_for_key(key);
  if (!key_alg || *key_alg != alg) {
    return fail(ErrorCode::bad_signature, "the key cannot make " +
                                              std::string(crypto::jose_name(alg)) +
                                              " signatures, which the protected header names");
  }
  return crypto::verify_bytes(key, alg, to_be_signed, signature, crypto::SignatureEncoding::raw);
}

}  // namespace

Result<Bytes> sign_cose(ByteView payload, const SigningIdentity& identity,
                        const CoseSignOptions& options) {
  if (identity.signer == nullptr) return fail(ErrorCode::usage, "no signing key given");
  const crypto::SignatureAlgorithm alg = identity.signer->algorithm();

  // Protected header {1: alg (, 4: kid)}, keys in ascending order.
  Bytes protected_header;
  protected_header.reserve(4 + (options.kid ? 10 + options.kid->size() : 0));
  CborWriter header(protected_header);
  header.map(options.kid ? 2 : 1);
  header.integer(k_label_alg);
  header.integer(crypto::cose_id(alg));
  if (options.kid) {
    header.integer(k_label_kid);
    header.byte_string(*options.kid);
  }

  ASSIGN_OR_RETURN(Bytes signature,
                   identity.signer->sign(sig_structure(protected_header, payload)));
  if (alg != crypto::SignatureAlgorithm::ed25519) {
    // RFC 9053 §2.1: ECDSA signatures are r || s, each the field size.
    ASSIGN_OR_RETURN(signature, crypto::ecdsa_der_to_raw(signature, crypto::ecdsa_field_size(alg)));
  }

  // cBRSKI: the signer's chain travels in an unprotected x5bag (the voucher
  // SHOULD NOT carry it in the protected header).
  const bool with_x5bag = options.include_x5bag && !identity.chain.empty();
  std::size_t chain_size = 0;
  for (const auto& cert : identity.chain) chain_size += 5 + cert->der.size();
  Bytes out;
  out.reserve(16 + protected_header.size() + payload.size() + signature.size() +
              (with_x5bag ? chain_size : 0));
  CborWriter w(out);
  w.tag(k_cose_sign1_tag);
  w.array(4);
  w.byte_string(protected_header);
  if (with_x5bag) {
    w.map(1);
    w.integer(k_label_x5bag);
    // RFC 9360 §2: one certificate is a bare bstr, several an array.
    if (identity.chain.size() == 1) {
      w.byte_string(identity.chain.front()->der);
    } else {
      w.array(identity.chain.size());
      for (const auto& cert : identity.chain) w.byte_string(cert->der);
    }
  } else {
    w.map(0);
  }
  w.byte_string(payload);
  w.byte_string(signature);
  return out;
}

Result<VerifiedEnvelope> verify_cose(ByteView data, const TrustPolicy& policy) {
  TRY(check_input_size(data, policy));

  // libcbor 0.8 refuses the one-byte heads of tags 6..20 (0xC6..0xD4), and
  // 0xD2 (tag 18) starts every tagged COSE_Sign1, so a leading one-byte tag
  // is read here; longer tag heads are left to libcbor.
  ByteView body = data;
  bool tagged = false;
  if (!body.empty() && body[0] >= 0xC0 && body[0] <= 0xD7) {
    const unsigned tag = body[0] - 0xC0U;
    if (tag != k_cose_sign1_tag) {
      return not_cose("CBOR tag " + std::to_string(tag) + " is not COSE_Sign1 (18)");
    }
    tagged = true;
    body = body.subspan(1);
  }
  ASSIGN_OR_RETURN(const CborItemPtr root, detail::load_cbor(body, k_max_depth));
  const cbor_item_t* message = root.get();
  CborItemPtr untagged;
  if (cbor_isa_tag(message)) {
    if (tagged || cbor_tag_value(message) != k_cose_sign1_tag) {
      return not_cose("CBOR tag " + std::to_string(cbor_tag_value(message)) +
                      " is not COSE_Sign1 (18)");
    }
    untagged.reset(cbor_tag_item(message));  // a new reference
    message = untagged.get();
  }
  if (!cbor_isa_array(message) || cbor_array_size(message) != 4) {
    return not_cose("expected [protected, unprotected, payload, signature] (RFC 9052 §4.2)");
  }
  cbor_item_t** parts = cbor_array_handle(message);
  if (!cbor_isa_bytestring(parts[0])) return not_cose("the protected header must be a byte string");
  if (!cbor_isa_map(parts[1])) return not_cose("the unprotected header must be a map");
  if (cbor_isa_map(parts[2])) {
    // Early cBRSKI drafts put the voucher map itself in the payload slot.
    return not_cose(
        "the payload is a bare CBOR map, as early cBRSKI drafts wrote it; RFC 9052 §4.2 "
        "wants the map encoded inside a byte string");
  }
  if (detail::is_simple(parts[2], CBOR_CTRL_NULL)) {
    return not_cose("the payload is nil: detached payloads (RFC 9052 §2) are not vouchers");
  }
  if (!cbor_isa_bytestring(parts[2])) {
    return not_cose("the payload must be a byte string holding the CBOR voucher");
  }
  if (!cbor_isa_bytestring(parts[3])) return not_cose("the signature must be a byte string");
  const ByteView protected_bytes = bytes_of(parts[0]);
  const ByteView payload = bytes_of(parts[2]);
  const ByteView signature = bytes_of(parts[3]);

  // RFC 9052 §3: an empty protected header is a zero-length bstr; otherwise
  // the bstr wraps a map.
  Headers headers;
  CborItemPtr protected_map;
  if (!protected_bytes.empty()) {
    ASSIGN_OR_RETURN(protected_map, detail::load_cbor(protected_bytes, k_max_depth));
    if (!cbor_isa_map(protected_map.get())) {
      return not_cose("the protected header does not encode a map");
    }
    TRY(read_headers(protected_map.get(), true, headers));
  }
  TRY(read_headers(parts[1], false, headers));
  TRY(check_critical(headers));
  if (!headers.alg) {
    return fail(ErrorCode::unsupported_algorithm, "the protected header names no alg");
  }
  const crypto::SignatureAlgorithm alg = *headers.alg;

  std::vector<crypto::CertificateRef> embedded;
  embedded.reserve(headers.certificates.size());
  for (const ByteView der : headers.certificates) {
    ASSIGN_OR_RETURN(auto cert, crypto::CertificateCache::shared().decode(der));
    embedded.push_back(std::move(cert));
  }

  const Bytes to_be_signed = sig_structure(protected_bytes, payload);
  // Remembers the key that already verified, so check_signer's own call
  // does not pay for a second signature check.
  const EVP_PKEY* verified_key = nullptr;
  const auto verify = [&](EVP_PKEY* key) -> Status {
    if (key != nullptr && key == verified_key) return ok();
    TRY(verify_with(key, alg, to_be_signed, signature));
    verified_key = key;
    return ok();
  };

  // RFC 9360 §2: x5bag is an unordered bag, so the signer is whichever
  // certificate's key verifies; with a pinned key it is the one holding it.
  crypto::CertificateRef signer;
  if (policy.pinned_key) {
    for (const auto& cert : embedded) {
      if (EVP_PKEY_eq(cert->public_key.get(), policy.pinned_key.get()) == 1) {
        signer = cert;
        break;
      }
    }
  } else if (policy.anchors || policy.inspect_only) {
    for (const auto& cert : embedded) {
      if (verify(cert->public_key.get()).has_value()) {
        signer = cert;
        break;
      }
    }
    if (!signer && !embedded.empty()) {
      return fail(ErrorCode::bad_signature, "the signature verifies with none of the " +
                                                std::to_string(embedded.size()) +
                                                " certificates in x5bag/x5chain");
    }
    if (!signer && policy.anchors) {
      for (const auto& cert : policy.candidate_signers) {
        if (verify(cert->public_key.get()).has_value()) {
          signer = cert;
          break;
        }
      }
      if (!signer) {
        return fail(ErrorCode::unknown_signer,
                    policy.candidate_signers.empty()
                        ? "the COSE_Sign1 names no signer (no x5bag or x5chain certificate), "
                          "and no certificate was known for it"
                        : "the COSE_Sign1 names no signer (no x5bag or x5chain certificate), "
                          "and none of the " +
                              std::to_string(policy.candidate_signers.size()) +
                              " certificates known for it verifies the signature");
      }
    }
  }
  ASSIGN_OR_RETURN(auto chain, check_signer(signer, embedded, policy, verify));
  return VerifiedEnvelope{
      Form::cose, Bytes(payload.begin(), payload.end()), std::move(chain), std::move(embedded), {}};
}

}  // namespace vouchsafe::voucher
