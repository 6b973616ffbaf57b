// JWS JSON Serialization (RFC 7515 §7.2) of JSON vouchers, as
// draft-ietf-anima-jws-voucher profiles it.
#include "voucher/jws.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/signature.h"
#include "voucher/json_codec.h"

namespace vouchsafe::voucher {
namespace {

using nlohmann::json;

constexpr std::string_view k_voucher_typ = "voucher-jws+json";

// The envelope and its headers are shallow: the deepest thing a voucher JWS
// carries is an x5c array inside a header object inside the signatures array.
constexpr std::size_t k_max_envelope_depth = 8;

// RFC 7515 §7.2.1 allows any number of signatures; each one may cost a
// signature check and a path validation, so a hostile sender is bounded.
// BRSKI-PRM A.4 (MASA signature plus registrar countersignature) needs two.
constexpr std::size_t k_max_signatures = 4;

// ---------------------------------------------------------------------------
// Signing

// The base64url protected header depends only on the algorithm and the
// chain, which stay the same from one voucher to the next of a MASA. Each
// thread keeps the last one it built, keyed by the certificates' DER (not by
// pointers, which a freed and reallocated chain could reuse), so steady-state
// signing skips a JSON build and two base64 passes over the chain.
struct ProtectedHeaderCache {
  bool valid = false;
  crypto::SignatureAlgorithm alg{};
  std::vector<Bytes> chain_der;
  std::string encoded;

  [[nodiscard]] bool matches(crypto::SignatureAlgorithm a,
                             const std::vector<crypto::CertificateRef>& chain) const {
    if (!valid || a != alg || chain.size() != chain_der.size()) return false;
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (chain[i]->der != chain_der[i]) return false;
    }
    return true;
  }
};

// {"alg":...,"typ":"voucher-jws+json","x5c":[...]} written directly: every
// value is an algorithm name or standard base64, so nothing needs escaping.
std::string build_protected_header(crypto::SignatureAlgorithm alg,
                                   const std::vector<crypto::CertificateRef>& chain) {
  std::string header;
  header.reserve(64 + chain.size() * 1024);
  header += R"({"alg":")";
  header += crypto::jose_name(alg);
  header += R"(","typ":")";
  header += k_voucher_typ;
  header += '"';
  // RFC 7515 §4.1.6: x5c entries are base64 (not base64url) DER, the
  // certificate holding the signing key first.
  if (!chain.empty()) {
    header += R"(,"x5c":[)";
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (i > 0) header += ',';
      header += '"';
      header += base64_encode(chain[i]->der);
      header += '"';
    }
    header += ']';
  }
  header += '}';
  return base64url_encode(as_bytes(header));
}

const std::string& encoded_protected_header(crypto::SignatureAlgorithm alg,
                                            const std::vector<crypto::CertificateRef>& chain) {
  thread_local ProtectedHeaderCache cache;
  if (!cache.matches(alg, chain)) {
    cache.valid = false;
    cache.encoded = build_protected_header(alg, chain);
    cache.alg = alg;
    cache.chain_der.clear();
    for (const auto& cert : chain) cache.chain_der.push_back(cert->der);
    cache.valid = true;
  }
  return cache.encoded;
}

// ---------------------------------------------------------------------------
// Verification

// One entry of "signatures" (or the flattened top level), decoded.
struct ParsedSignature {
  std::string signing_input;  // ASCII(protected '.' payload) as received
  crypto::SignatureAlgorithm alg{};
  Bytes signature;
  std::vector<crypto::CertificateRef> x5c;
  std::string kid;  // RFC 7515 §4.1.4, when present
};

Unexpected wrong_type(std::string_view what, const char* expected, const json& got) {
  return fail(ErrorCode::wrong_type,
              std::string(what) + " must be " + expected + ", got " + got.type_name());
}

// RFC 7515 §2: base64url "with all trailing '=' characters omitted". The
// core decoder tolerates padding; a JWS member must not carry any.
Result<Bytes> decode_member_base64url(std::string_view what, std::string_view text) {
  if (text.find('=') != std::string_view::npos) {
    return fail(ErrorCode::malformed_base64,
                std::string(what) + ": base64url in JWS carries no '=' padding (RFC 7515 §2)");
  }
  auto bytes = base64url_decode(text);
  if (!bytes) {
    return fail(ErrorCode::malformed_base64, std::string(what) + ": " + bytes.error().message);
  }
  return bytes;
}

Result<const std::string*> string_member(const json& object, const char* name,
                                         std::string_view where) {
  const auto it = object.find(name);
  if (it == object.end()) {
    return fail(ErrorCode::malformed_json,
                std::string(where) + " has no \"" + name + "\" member (RFC 7515 §7.2)");
  }
  if (!it->is_string())
    return wrong_type(std::string(where) + " \"" + name + "\"", "a string", *it);
  return &it->get_ref<const std::string&>();
}

// RFC 7515 §4.1.9: media types compare case-insensitively and "application/"
// may be left off.
bool typ_is(std::string_view typ, std::string_view expected) {
  constexpr std::string_view prefix = "application/";
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  std::string t = lower(typ);
  if (t.size() > prefix.size() && std::string_view(t).substr(0, prefix.size()) == prefix) {
    t.erase(0, prefix.size());
  }
  return t == lower(expected);
}

Result<std::vector<crypto::CertificateRef>> decode_x5c(const json& x5c) {
  if (!x5c.is_array()) return wrong_type("x5c", "an array of base64 strings", x5c);
  // RFC 7515 §4.1.6: the first certificate holds the signing key, so an
  // empty list names no signer at all.
  if (x5c.empty()) return fail(ErrorCode::malformed_json, "x5c is an empty array");
  std::vector<crypto::CertificateRef> certs;
  certs.reserve(x5c.size());
  for (std::size_t i = 0; i < x5c.size(); ++i) {
    const json& entry = x5c[i];
    const std::string what = "x5c[" + std::to_string(i) + "]";
    if (!entry.is_string()) return wrong_type(what, "a base64 string", entry);
    // Standard base64, not base64url (RFC 7515 §4.1.6).
    auto der = base64_decode(entry.get_ref<const std::string&>());
    if (!der) return fail(ErrorCode::malformed_base64, what + ": " + der.error().message);
    auto cert = crypto::CertificateCache::shared().decode(*der);
    if (!cert) return fail(cert.error().code, what + ": " + cert.error().message);
    certs.push_back(std::move(cert).value());
  }
  return certs;
}

Status check_header(const json& header, const json* unprotected) {
  if (unprotected != nullptr) {
    // RFC 7515 §7.2.1: "The Header Parameter names in the two locations
    // MUST be disjoint."
    for (const auto& [name, value] : unprotected->items()) {
      if (header.contains(name)) {
        return fail(ErrorCode::duplicate_member,
                    "header parameter '" + name.substr(0, 64) +
                        "' appears in both the protected and the unprotected header");
      }
    }
    // RFC 7515 §4.1.11: crit "MUST occur only within the JWS Protected Header".
    if (unprotected->contains("crit")) {
      return fail(ErrorCode::invalid_value, "crit appears in the unprotected header");
    }
  }
  // RFC 7515 §4.1.11: recipients MUST reject a JWS whose crit lists an
  // extension they do not understand. This verifier implements none (not
  // even RFC 7797 "b64"), and an empty crit is itself forbidden.
  if (const auto crit = header.find("crit"); crit != header.end()) {
    std::string names;
    if (crit->is_array()) {
      for (const auto& n : *crit) {
        if (!names.empty()) names += ", ";
        names += n.is_string() ? n.get<std::string>().substr(0, 32) : std::string("?");
      }
    }
    return fail(ErrorCode::invalid_value,
                "the protected header marks extensions as critical (" +
                    (names.empty() ? std::string("none listed") : names) +
                    ") and this verifier understands none (RFC 7515 §4.1.11)");
  }
  if (const auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string()) return wrong_type("typ", "a string", *typ);
    // draft-ietf-anima-jws-voucher: typ, if present, SHOULD be
    // "voucher-jws+json". RFC 7515's generic "JOSE+JSON" says nothing more
    // and is accepted; any other type (a JWT, say) is a different kind of
    // object signed by the same key and must not pass for a voucher.
    const auto& value = typ->get_ref<const std::string&>();
    if (!typ_is(value, k_voucher_typ) && !typ_is(value, "JOSE+JSON")) {
      return fail(ErrorCode::wrong_content_type,
                  "typ '" + value.substr(0, 64) + "' is not voucher-jws+json");
    }
  }
  return ok();
}

// Decodes one signature object: {"protected", "header"?, "signature"} in
// the General syntax, or the top level itself in the Flattened syntax.
Result<ParsedSignature> parse_signature(const json& entry, const std::string& payload_b64,
                                        std::string_view where) {
  ASSIGN_OR_RETURN(const std::string* protected_b64, string_member(entry, "protected", where));
  ASSIGN_OR_RETURN(const std::string* signature_b64, string_member(entry, "signature", where));

  const json* unprotected = nullptr;
  if (const auto it = entry.find("header"); it != entry.end()) {
    if (!it->is_object()) return wrong_type(std::string(where) + " \"header\"", "an object", *it);
    unprotected = &*it;
  }

  ASSIGN_OR_RETURN(Bytes header_bytes, decode_member_base64url("protected", *protected_b64));
  auto header = parse_strict_json(header_bytes, k_max_envelope_depth);
  if (!header) {
    return fail(header.error().code, "protected header: " + header.error().message);
  }
  if (!header->is_object()) return wrong_type("the protected header", "a JSON object", *header);
  TRY(check_header(*header, unprotected));

  ParsedSignature parsed;
  // draft-ietf-anima-jws-voucher: "alg" is in the JWS Protected Header; an
  // algorithm the signature does not cover could be swapped in transit.
  const auto alg = header->find("alg");
  if (alg == header->end()) {
    return fail(ErrorCode::malformed_json, "the protected header has no \"alg\"");
  }
  if (!alg->is_string()) return wrong_type("alg", "a string", *alg);
  const auto& alg_name = alg->get_ref<const std::string&>();
  // RFC 8725 §3.2: "none" would make the signature optional; never accept it.
  if (alg_name == "none") {
    return fail(ErrorCode::unsupported_algorithm, "alg \"none\" (an unsigned JWS) is refused");
  }
  ASSIGN_OR_RETURN(parsed.alg, crypto::from_jose_name(alg_name));

  if (const auto x5c = header->find("x5c"); x5c != header->end()) {
    ASSIGN_OR_RETURN(parsed.x5c, decode_x5c(*x5c));
  }
  if (const auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) return wrong_type("kid", "a string", *kid);
    parsed.kid = kid->get<std::string>();
  }
  ASSIGN_OR_RETURN(parsed.signature, decode_member_base64url("signature", *signature_b64));

  // RFC 7515 §5.2 step 8: the signing input is the encoded values exactly
  // as received, not a re-encoding of what they decode to.
  parsed.signing_input.reserve(protected_b64->size() + 1 + payload_b64.size());
  parsed.signing_input += *protected_b64;
  parsed.signing_input += '.';
  parsed.signing_input += payload_b64;
  return parsed;
}

Result<VerifiedEnvelope> verify_one(const ParsedSignature& sig, const Bytes& payload,
                                    const TrustPolicy& policy) {
  const crypto::CertificateRef signer_cert = sig.x5c.empty() ? nullptr : sig.x5c.front();
  const auto verify = [&](EVP_PKEY* key) -> Status {
    // RFC 7518 §3.4: ES256 means P-256 with SHA-256, and so on. OpenSSL
    // would happily check an "ES256" signature with a P-384 key, or an
    // "EdDSA" one with an EC key and its default digest.
    auto key_alg = crypto::algorithm_for_key(key);
    if (!key_alg || *key_alg != sig.alg) {
      return fail(ErrorCode::bad_signature, "alg " + std::string(crypto::jose_name(sig.alg)) +
                                                " does not match the signer's key type");
    }
    return crypto::verify_bytes(key, sig.alg, as_bytes(sig.signing_input), sig.signature,
                                crypto::SignatureEncoding::raw);
  };
  ASSIGN_OR_RETURN(auto chain, check_signer(signer_cert, sig.x5c, policy, verify));
  return VerifiedEnvelope{Form::jws, payload, std::move(chain), sig.x5c, sig.kid};
}

// {"alg":...,"kid":...(,"x5c":[...])}, for a JWS that names its signer by
// key id; rare enough not to be cached.
std::string build_kid_header(crypto::SignatureAlgorithm alg, const std::string& kid,
                             const std::vector<crypto::CertificateRef>& chain) {
  json header = {{"alg", std::string(crypto::jose_name(alg))}, {"kid", kid}};
  if (!chain.empty()) {
    json x5c = json::array();
    for (const auto& cert : chain) x5c.push_back(base64_encode(cert->der));
    header["x5c"] = std::move(x5c);
  }
  return base64url_encode(as_bytes(header.dump()));
}

}  // namespace

Result<Bytes> sign_jws(ByteView payload, const SigningIdentity& identity,
                       const JwsSignOptions& options) {
  if (identity.signer == nullptr) return fail(ErrorCode::usage, "no signer given for the JWS");
  for (const auto& cert : identity.chain) {
    if (!cert) return fail(ErrorCode::usage, "the signer's chain holds an empty certificate");
  }
  const crypto::SignatureAlgorithm alg = identity.signer->algorithm();
  // A copy, not a reference into the thread's cache: a Signer is free to do
  // anything on this thread, even sign another JWS, before we are done.
  const std::string protected_b64 = options.kid
                                        ? build_kid_header(alg, *options.kid, identity.chain)
                                        : encoded_protected_header(alg, identity.chain);
  const std::string payload_b64 = base64url_encode(payload);

  // RFC 7515 §5.1 step 5: ASCII(BASE64URL(UTF8(JWS Protected Header)) || '.'
  // || BASE64URL(JWS Payload)).
  std::string signing_input;
  signing_input.reserve(protected_b64.size() + 1 + payload_b64.size());
  signing_input += protected_b64;
  signing_input += '.';
  signing_input += payload_b64;

  ASSIGN_OR_RETURN(Bytes signature, identity.signer->sign(as_bytes(signing_input)));
  // RFC 7518 §3.4: JWS carries ECDSA as fixed-size R || S, not DER.
  if (const std::size_t field = crypto::ecdsa_field_size(alg); field != 0) {
    ASSIGN_OR_RETURN(signature, crypto::ecdsa_der_to_raw(signature, field));
  }
  const std::string signature_b64 = base64url_encode(signature);

  // The General JWS JSON Serialization (RFC 7515 §7.2.1), which the voucher
  // draft mandates so that more signatures can be added later.
  constexpr std::string_view part1 = R"({"payload":")";
  constexpr std::string_view part2 = R"(","signatures":[{"protected":")";
  constexpr std::string_view part3 = R"(","signature":")";
  constexpr std::string_view part4 = R"("}]})";
  Bytes out;
  out.reserve(part1.size() + payload_b64.size() + part2.size() + protected_b64.size() +
              part3.size() + signature_b64.size() + part4.size());
  for (const std::string_view piece :
       {part1, std::string_view(payload_b64), part2, std::string_view(protected_b64), part3,
        std::string_view(signature_b64), part4}) {
    out.insert(out.end(), piece.begin(), piece.end());
  }
  return out;
}

Result<VerifiedEnvelope> verify_jws(ByteView data, const TrustPolicy& policy) {
  TRY(check_input_size(data, policy));
  ASSIGN_OR_RETURN(const json doc, parse_strict_json(data, k_max_envelope_depth));
  if (!doc.is_object()) return wrong_type("a JWS JSON Serialization", "an object", doc);

  // A voucher or voucher-request sent as bare JSON looks like a JWS to
  // form detection; say what it is rather than which JWS member it lacks.
  if (!doc.contains("payload")) {
    for (const auto& [name, value] : doc.items()) {
      if (name.size() > 8 && name.compare(name.size() - 8, 8, ":voucher") == 0) {
        return fail(ErrorCode::bad_signature,
                    "found an unsigned JSON voucher-request or voucher (\"" + name.substr(0, 64) +
                        "\"), not a signed JWS: it carries no signature");
      }
    }
  }
  // RFC 7515 §7.2.1: other members "MUST be ignored" if not understood, so
  // unknown top-level members are; only the ones JWS defines are read.
  ASSIGN_OR_RETURN(const std::string* payload_b64, string_member(doc, "payload", "the JWS"));
  ASSIGN_OR_RETURN(Bytes payload, decode_member_base64url("payload", *payload_b64));

  std::vector<ParsedSignature> signatures;
  if (const auto list = doc.find("signatures"); list != doc.end()) {
    // RFC 7515 §7.2.2: the Flattened syntax is the General one with the
    // single signature's members lifted up; a document with both is neither.
    if (doc.contains("protected") || doc.contains("signature") || doc.contains("header")) {
      return fail(ErrorCode::malformed_json,
                  "the JWS mixes the General (signatures) and Flattened (signature) syntaxes");
    }
    if (!list->is_array()) return wrong_type("\"signatures\"", "an array", *list);
    if (list->empty()) return fail(ErrorCode::malformed_json, "\"signatures\" is empty");
    if (list->size() > k_max_signatures) {
      return fail(ErrorCode::input_too_large,
                  "the JWS carries " + std::to_string(list->size()) + " signatures; at most " +
                      std::to_string(k_max_signatures) + " are accepted");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const json& entry = (*list)[i];
      const std::string where = "signatures[" + std::to_string(i) + "]";
      if (!entry.is_object()) return wrong_type(where, "an object", entry);
      ASSIGN_OR_RETURN(auto parsed, parse_signature(entry, *payload_b64, where));
      signatures.push_back(std::move(parsed));
    }
  } else if (doc.contains("signature")) {
    ASSIGN_OR_RETURN(auto parsed, parse_signature(doc, *payload_b64, "the flattened JWS"));
    signatures.push_back(std::move(parsed));
  } else {
    return fail(ErrorCode::malformed_json,
                R"(not a JWS JSON Serialization: no "signatures" or "signature" member)");
  }

  // RFC 7515 §7.2.1 leaves it to the application which signatures must
  // validate. A voucher needs one signer the policy trusts; the others (a
  // registrar's countersignature in BRSKI-PRM) are for other parties. All
  // of them were parsed above, so a malformed extra one still fails. When
  // none verifies, the first signature's reason is the one reported.
  std::optional<Error> first_error;
  for (const auto& sig : signatures) {
    auto verified = verify_one(sig, payload, policy);
    if (verified) return verified;
    if (!first_error) first_error = std::move(verified).error();
  }
  return fail(std::move(*first_error));
}

}  // namespace vouchsafe::voucher
