// Signing and key generation on a PKCS#11 token.
#include "crypto/pkcs11/pkcs11_signer.h"

#include <openssl/rand.h>

#include <array>

#include "crypto/der.h"
#include "crypto/oids.h"
#include "crypto/signature.h"

namespace vouchsafe::crypto::pkcs11 {
namespace {

namespace der = crypto::der;

// CKA_EC_PARAMS is the DER of the curve's OBJECT IDENTIFIER (PKCS#11 2.40
// §2.3.3; RFC 8410 §3 for Ed25519).
Bytes oid_der(ByteView contents) {
  return der::Writer().add_oid(contents).take();
}

// CKA_EC_POINT is a DER OCTET STRING holding the point (PKCS#11 2.40
// §2.3.3); some tokens return the point bare.
ByteView unwrap_point(ByteView value) {
  if (value.size() >= 2 && value[0] == der::k_octet_string) {
    if (value[1] < 0x80 && value.size() == 2U + value[1]) return value.subspan(2);
    if (value[1] == 0x81 && value.size() >= 3 && value.size() == 3U + value[2]) {
      return value.subspan(3);
    }
  }
  return value;
}

// The SubjectPublicKeyInfo of an EC or Edwards public key object.
Result<PkeyPtr> public_key_from(ByteView params, ByteView point_attribute) {
  const ByteView point = unwrap_point(point_attribute);
  der::Writer spki;
  const bool edwards = std::ranges::equal(params, oid_der(oid::ed25519)) ||
                       // PKCS#11 3.0 also allows the curve's name as a PrintableString.
                       std::ranges::equal(params, as_bytes("\x13\x0c"
                                                           "edwards25519"));
  spki.sequence([&](der::Writer& w) {
    w.sequence([&](der::Writer& alg) {
      if (edwards) {
        alg.add_oid(oid::ed25519);
      } else {
        alg.add_oid(oid::ec_public_key).add_encoded(params);
      }
    });
    Bytes bits;
    bits.reserve(point.size() + 1);
    bits.push_back(0);
    bits.insert(bits.end(), point.begin(), point.end());
    w.add(der::k_bit_string, bits);
  });
  const Bytes encoded = spki.take();
  return parse_public_key(encoded);
}

std::string object_text(const Pkcs11Uri& uri) {
  std::string out = uri.object.empty() ? std::string() : "'" + uri.object + "'";
  if (uri.id)
    out += (out.empty() ? "id " : " (id ") + hex_encode(*uri.id) + (out.empty() ? "" : ")");
  return out;
}

}  // namespace

Result<std::unique_ptr<Pkcs11Signer>> Pkcs11Signer::open(const Pkcs11Uri& uri) {
  if (!uri.type.empty() && uri.type != "private") {
    return fail(ErrorCode::usage, "the pkcs11: URI says type=" + uri.type +
                                      "; a signing key is type=private (or leave type out)");
  }
  ASSIGN_OR_RETURN(auto token, Token::open(uri));
  ASSIGN_OR_RETURN(auto session, token->session());
  ASSIGN_OR_RETURN(const CK_OBJECT_HANDLE key,
                   token->find_object(session, CKO_PRIVATE_KEY, uri.object, uri.id, "private key"));
  ASSIGN_OR_RETURN(
      const CK_OBJECT_HANDLE pub,
      token->find_object(session, CKO_PUBLIC_KEY, uri.object, uri.id, "public key object"));
  ASSIGN_OR_RETURN(auto params, token->attribute(session, pub, CKA_EC_PARAMS));
  ASSIGN_OR_RETURN(auto point, token->attribute(session, pub, CKA_EC_POINT));
  if (!params || !point) {
    return fail(ErrorCode::bad_key, "the key " + object_text(uri) + " on " + token->describe() +
                                        " is not an EC or Edwards key (no CKA_EC_PARAMS / "
                                        "CKA_EC_POINT): only ECDSA P-256/P-384 and Ed25519 are "
                                        "supported");
  }
  auto public_key = public_key_from(*params, *point);
  if (!public_key) {
    return fail(ErrorCode::bad_key, "the public key of " + object_text(uri) + " on " +
                                        token->describe() +
                                        " cannot be read: " + public_key.error().message);
  }
  ASSIGN_OR_RETURN(const auto alg, algorithm_for_key(public_key->get()));
  const bool edwards = alg == SignatureAlgorithm::ed25519;
  const CK_MECHANISM_TYPE mechanism = edwards ? CKM_EDDSA : CKM_ECDSA;
  if (!token->offers(mechanism)) {
    return fail(ErrorCode::bad_key, std::string(edwards ? "CKM_EDDSA" : "CKM_ECDSA") +
                                        " is not offered by " + token->describe() + ", so key " +
                                        object_text(uri) +
                                        " cannot sign: unsupported mechanism; use a key type the "
                                        "token signs with (P-256 or P-384)");
  }
  return std::unique_ptr<Pkcs11Signer>(new Pkcs11Signer(
      std::move(token), key, std::move(public_key).value(), alg, object_text(uri)));
}

Result<Bytes> Pkcs11Signer::sign(ByteView data) const {
  if (algorithm_ == SignatureAlgorithm::ed25519) return sign_input(data);  // hashes it itself
  ASSIGN_OR_RETURN(auto digest, digest_bytes(digest_for(algorithm_), data));
  return sign_input(digest);
}

Result<Bytes> Pkcs11Signer::sign_digest(ByteView digest) const {
  TRY(check_digest_size(algorithm_, digest));
  return sign_input(digest);
}

Result<Bytes> Pkcs11Signer::sign_input(ByteView input) const {
  const bool edwards = algorithm_ == SignatureAlgorithm::ed25519;
  ASSIGN_OR_RETURN(auto session, token_->session());
  CK_MECHANISM mechanism{edwards ? CKM_EDDSA : CKM_ECDSA, nullptr, 0};
  CK_FUNCTION_LIST* f = token_->functions();
  CK_RV rv = f->C_SignInit(session.handle(), &mechanism, private_key_);
  if (rv != CKR_OK) {
    session.mark_broken();
    return token_->failure(ErrorCode::bad_key, "C_SignInit with key " + object_name_, rv);
  }
  // P-521's r||s is the longest: 2 * 66 octets.
  std::array<std::uint8_t, 132> signature{};
  CK_ULONG length = signature.size();
  // PKCS#11 declares the input non-const; C_Sign only reads it.
  rv = f->C_Sign(session.handle(), const_cast<std::uint8_t*>(input.data()), input.size(),
                 signature.data(), &length);
  if (rv != CKR_OK) {
    session.mark_broken();  // a failed C_Sign may leave the operation active
    return token_->failure(ErrorCode::bad_key, "C_Sign with key " + object_name_, rv);
  }
  const ByteView raw(signature.data(), length);
  if (edwards) return Bytes(raw.begin(), raw.end());
  return ecdsa_raw_to_der(raw);
}

Result<Pkcs11Uri> generate_key_pair(const Pkcs11Uri& where, KeyType type,
                                    const std::string& label) {
  ASSIGN_OR_RETURN(auto token, Token::open(where));
  ASSIGN_OR_RETURN(auto session, token->session());
  // A label names one key: refuse to make a second.
  if (token->find_object(session, CKO_PRIVATE_KEY, label, std::nullopt, "private key")) {
    return fail(ErrorCode::usage, "a key labelled '" + label + "' exists on " + token->describe() +
                                      "; refusing to make a second (name it by that URI, or "
                                      "delete it with the token's tools)");
  }
  Bytes curve;
  CK_MECHANISM mechanism{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  switch (type) {
    case KeyType::p256:
      curve = oid_der(oid::prime256v1);
      break;
    case KeyType::p384:
      curve = oid_der(oid::secp384r1);
      break;
    case KeyType::p521:
      curve = oid_der(oid::secp521r1);
      break;
    case KeyType::ed25519:
      curve = oid_der(oid::ed25519);
      mechanism.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
      break;
  }
  if (!token->offers(mechanism.mechanism)) {
    return fail(ErrorCode::bad_key,
                std::string(type == KeyType::ed25519 ? "CKM_EC_EDWARDS_KEY_PAIR_GEN"
                                                     : "CKM_EC_KEY_PAIR_GEN") +
                    " is not offered by " + token->describe() +
                    ": unsupported mechanism; choose a key type the token generates");
  }
  Bytes id(8);
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
    return fail(ErrorCode::internal, "the random number generator failed");
  }
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  std::string label_copy = label;
  std::vector<CK_ATTRIBUTE> public_template = {
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &no, sizeof no},
      {CKA_VERIFY, &yes, sizeof yes},
      {CKA_EC_PARAMS, curve.data(), curve.size()},
      {CKA_LABEL, label_copy.data(), label_copy.size()},
      {CKA_ID, id.data(), id.size()},
  };
  // The private key never leaves the token: sensitive (its value is never
  // revealed) and not extractable (it is never wrapped out).
  std::vector<CK_ATTRIBUTE> private_template = {
      {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_EXTRACTABLE, &no, sizeof no},
      {CKA_SIGN, &yes, sizeof yes},      {CKA_LABEL, label_copy.data(), label_copy.size()},
      {CKA_ID, id.data(), id.size()},
  };
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  const CK_RV rv = token->functions()->C_GenerateKeyPair(
      session.handle(), &mechanism, public_template.data(), public_template.size(),
      private_template.data(), private_template.size(), &pub, &priv);
  if (rv != CKR_OK) {
    return token->failure(ErrorCode::bad_key, "generating key '" + label + "'", rv);
  }
  Pkcs11Uri out = where;
  out.object = label;
  out.id = id;
  out.type.clear();
  return out;
}

Status destroy_key_pair(const Pkcs11Uri& uri) {
  ASSIGN_OR_RETURN(auto token, Token::open(uri));
  ASSIGN_OR_RETURN(auto session, token->session());
  for (const CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    auto object = token->find_object(session, cls, uri.object, uri.id, "key");
    if (!object) continue;  // already gone
    const CK_RV rv = token->functions()->C_DestroyObject(session.handle(), *object);
    if (rv != CKR_OK) {
      return token->failure(ErrorCode::bad_key, "destroying key " + object_text(uri), rv);
    }
  }
  return ok();
}

}  // namespace vouchsafe::crypto::pkcs11
