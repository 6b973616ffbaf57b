// Loading, generating and exporting keys and certificates (PEM or DER).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"

namespace vouchsafe::crypto {

enum class KeyType { p256, p384, p521, ed25519 };

Result<KeyType> parse_key_type(std::string_view name);  // "p256", "P-384", "ed25519"...
PkeyPtr generate_key(KeyType type);

// Private key in PEM (PKCS#8, encrypted PKCS#8, SEC1) or DER. A passphrase
// is needed only for encrypted keys; a wrong one is ErrorCode::bad_passphrase.
Result<PkeyPtr> parse_private_key(ByteView data, const std::optional<std::string>& passphrase);
Result<PkeyPtr> load_private_key(const std::string& path,
                                 const std::optional<std::string>& passphrase);

// Whether the key derivation an encryption's AlgorithmIdentifier asks for
// (PBES2 with PBKDF2 or scrypt; PKCS#5 v1.5 and PKCS#12 PBE) is within what
// we spend, checked before OpenSSL runs it: a file's parameters are not to
// be trusted. The message starts with `what` and ends with `hint`.
Status check_derivation_cost(const X509_ALGOR* algorithm, const std::string& what,
                             const std::string& hint);

// A public key from a PEM/DER SubjectPublicKeyInfo, or from a certificate.
Result<PkeyPtr> parse_public_key(ByteView data);
Result<PkeyPtr> load_public_key(const std::string& path);

// Every certificate in a PEM bundle, or the one DER certificate.
Result<std::vector<X509Ptr>> parse_certificates(ByteView data);
Result<std::vector<X509Ptr>> load_certificates(const std::string& path);
Result<X509Ptr> parse_certificate_der(ByteView der);

Bytes certificate_der(X509* cert);
std::string certificate_pem(X509* cert);
Bytes public_key_der(EVP_PKEY* key);  // SubjectPublicKeyInfo
std::string certificate_subject(X509* cert);
// A Name as RFC 2253 text (OpenSSL's XN_FLAG_RFC2253).
std::string name_rfc2253(const X509_NAME* name);

// PBKDF2-HMAC-SHA256 iterations of every key we encrypt under a passphrase
// (PKCS#8 key files, PKCS#12 bundles): OWASP's Password Storage Cheat Sheet
// (2023) asks 600,000. OpenSSL's default (PKCS5_DEFAULT_ITER) is 2,048.
inline constexpr int k_pbkdf2_iterations = 600'000;

// PKCS#8 PEM; with a passphrase, PBES2: AES-256-CBC under PBKDF2-HMAC-SHA256
// at k_pbkdf2_iterations.
Result<std::string> private_key_pem(EVP_PKEY* key, const std::optional<std::string>& passphrase);

Bytes sha256(ByteView data);

}  // namespace vouchsafe::crypto
