// Keys by reference (STYLE.md habit 15): a private key is named either by
// the path of an encrypted PEM file or by an RFC 7512 `pkcs11:` URI, and
// every private-key operation starts from open_signer(), so a key on an HSM
// is a drop-in for a key in a file.
//
//   /srv/vouchsafe/keys/root-ca.key.pem
//   pkcs11:token=vouchsafe;object=root-ca?module-path=/usr/lib/softhsm/libsofthsm2.so
//          &pin-source=file:/etc/vouchsafe/pin
//
// The PIN comes from the URI's pin-source (a file whose first line is the
// PIN) or from $VOUCHSAFE_PKCS11_PIN, never from the URI itself
// (pin-value is refused) nor from an argument.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/keys.h"
#include "crypto/signer.h"

namespace vouchsafe::crypto {

// The environment variable a token's PIN may come from.
inline constexpr const char* k_pkcs11_pin_env = "VOUCHSAFE_PKCS11_PIN";
// The module a URI without module-path loads, if set.
inline constexpr const char* k_pkcs11_module_env = "VOUCHSAFE_PKCS11_MODULE";

// The RFC 7512 attributes we act on; others (x-*, library-*, slot-*) are
// accepted and ignored, anything else is refused as a likely typo.
struct Pkcs11Uri {
  std::string token;         // CKA_LABEL of the token (path attribute "token")
  std::string object;        // CKA_LABEL of the key ("object")
  std::optional<Bytes> id;   // CKA_ID of the key ("id", percent-encoded bytes)
  std::string type;          // "private", "public", ... ; empty: any
  std::string manufacturer;  // token manufacturer, to tell tokens apart
  std::string serial;        // token serial number
  std::string module_path;   // query attribute "module-path"
  std::string pin_source;    // query attribute "pin-source", "file:PATH" or a path
  friend bool operator==(const Pkcs11Uri&, const Pkcs11Uri&) = default;
};

// A key reference. For a file, `path`; for a token, `uri`.
struct KeyReference {
  enum class Kind { file, pkcs11 };
  Kind kind = Kind::file;
  std::string path;
  Pkcs11Uri uri;

  [[nodiscard]] bool on_token() const { return kind == Kind::pkcs11; }
  // The canonical text: the path, or the URI with its attributes in a
  // fixed order and percent-encoded where RFC 7512 requires.
  [[nodiscard]] std::string text() const;
  friend bool operator==(const KeyReference&, const KeyReference&) = default;
};

// Longest reference accepted: a URI is outside input (configuration, store,
// continuity bundles), so it is bounded before it is parsed.
inline constexpr std::size_t k_max_key_reference = 4096;

// "pkcs11:..." is a URI (RFC 7512 §2.3, percent-decoded, no attribute
// twice, no pin-value); anything else is a file path. Errors are usage.
Result<KeyReference> parse_key_reference(std::string_view text);
Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view text);
std::string format_pkcs11_uri(const Pkcs11Uri& uri);

// The PIN for a token: the first line of pin-source's file, else
// $VOUCHSAFE_PKCS11_PIN; its absence is bad_passphrase saying both ways.
Result<std::string> pkcs11_pin(const Pkcs11Uri& uri);

// Opens a signer for the key: the file decrypted with `passphrase` (only
// encrypted files need one), or the token's private key after one login.
// Errors name the file, or the module, token, object and CKR_ code.
Result<std::shared_ptr<const Signer>> open_signer(const KeyReference& ref,
                                                  const std::optional<std::string>& passphrase);
Result<std::shared_ptr<const Signer>> open_signer(std::string_view reference,
                                                  const std::optional<std::string>& passphrase);

// Where new keys are made: a directory of encrypted PEM files, or a token
// (a pkcs11: URI naming at least the token and module; object and id are
// chosen per key).
struct KeyStore {
  KeyReference location;  // kind file: `path` is the directory
  [[nodiscard]] bool on_token() const { return location.on_token(); }
};
Result<KeyStore> parse_key_store(std::string_view text);

// A key just made: its reference and a signer for it. On a token the key
// is generated there, CKA_SENSITIVE and not CKA_EXTRACTABLE, so it never
// exists outside; in a directory it is written as `name`.key.pem, AES-256
// encrypted under `passphrase` (required, 8 characters or more).
struct GeneratedKey {
  KeyReference reference;
  std::shared_ptr<const Signer> signer;
};
Result<GeneratedKey> generate_key_in(const KeyStore& store, KeyType type, const std::string& name,
                                     const std::optional<std::string>& passphrase);

// Undoes generate_key_in: the file is overwritten and removed, the token's
// key pair destroyed. For clean-up after a later step failed.
Status destroy_key(const KeyReference& ref);

// Overwrites a key file before unlinking it, so the key does not linger in
// the file system's free blocks longer than it must. Absent files are fine.
Status destroy_key_file(const std::string& path);

// SHA-256 of the public key's SubjectPublicKeyInfo, in hex: how shares,
// bundles and operators name a key without showing it.
std::string key_fingerprint(EVP_PKEY* public_key);

}  // namespace vouchsafe::crypto
