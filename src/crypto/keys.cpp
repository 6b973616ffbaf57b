// Key and certificate I/O through OpenSSL's decoders.
#include "crypto/keys.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>

#include "core/file.h"
#include "crypto/algorithm.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::crypto {
namespace {

BioPtr mem_bio(ByteView data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

bool looks_pem(ByteView data) {
  return as_text(data).find("-----BEGIN") != std::string_view::npos;
}

int passphrase_cb(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* pass = static_cast<const std::string*>(user);
  if (pass == nullptr) return -1;
  const int n =
      static_cast<int>(std::min<std::size_t>(pass->size(), static_cast<std::size_t>(size)));
  std::copy_n(pass->data(), n, buf);
  return n;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return {data, static_cast<std::size_t>(len)};
}

}  // namespace

Result<KeyType> parse_key_type(std::string_view name) {
  if (name == "p256" || name == "P-256" || name == "prime256v1") return KeyType::p256;
  if (name == "p384" || name == "P-384" || name == "secp384r1") return KeyType::p384;
  if (name == "p521" || name == "P-521" || name == "secp521r1") return KeyType::p521;
  if (name == "ed25519" || name == "Ed25519") return KeyType::ed25519;
  return fail(ErrorCode::usage, "unknown key type '" + std::string(name) +
                                    "' (expected p256, p384, p521 or ed25519)");
}

PkeyPtr generate_key(KeyType type) {
  switch (type) {
    case KeyType::p256:
      return PkeyPtr(EVP_EC_gen("P-256"));
    case KeyType::p384:
      return PkeyPtr(EVP_EC_gen("P-384"));
    case KeyType::p521:
      return PkeyPtr(EVP_EC_gen("P-521"));
    case KeyType::ed25519:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  }
  return nullptr;
}

Result<PkeyPtr> parse_private_key(ByteView data, const std::optional<std::string>& passphrase) {
  ERR_clear_error();
  auto bio = mem_bio(data);
  const std::string* pass = passphrase ? &*passphrase : nullptr;
  PkeyPtr key;
  if (looks_pem(data)) {
    key.reset(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb, const_cast<std::string*>(pass)));
  } else {
    key.reset(d2i_PrivateKey_bio(bio.get(), nullptr));
  }
  if (!key) {
    const auto err = ERR_peek_last_error();
    const bool encrypted = as_text(data).find("ENCRYPTED") != std::string_view::npos;
    if (encrypted && pass == nullptr) {
      ERR_clear_error();
      return fail(
          ErrorCode::bad_passphrase,
          "the private key is encrypted: give its passphrase (file or environment variable)");
    }
    if (encrypted || ERR_GET_REASON(err) == EVP_R_BAD_DECRYPT) {
      ERR_clear_error();
      return fail(ErrorCode::bad_passphrase, "wrong passphrase for the private key");
    }
    return openssl_fail(ErrorCode::bad_key, "not a private key");
  }
  return key;
}

Result<PkeyPtr> load_private_key(const std::string& path,
                                 const std::optional<std::string>& passphrase) {
  ASSIGN_OR_RETURN(auto data, read_file(path, 1U << 20U));
  auto key = parse_private_key(data, passphrase);
  OPENSSL_cleanse(data.data(), data.size());
  if (!key) return fail(key.error().code, path + ": " + key.error().message);
  return key;
}

Result<PkeyPtr> parse_public_key(ByteView data) {
  ERR_clear_error();
  if (looks_pem(data)) {
    if (as_text(data).find("CERTIFICATE-----") != std::string_view::npos) {
      ASSIGN_OR_RETURN(auto certs, parse_certificates(data));
      return PkeyPtr(X509_get_pubkey(certs.front().get()));
    }
    auto bio = mem_bio(data);
    PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key) return openssl_fail(ErrorCode::bad_key, "not a PEM public key");
    return key;
  }
  const unsigned char* p = data.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(data.size())));
  if (key && p == data.data() + data.size()) return key;
  ERR_clear_error();
  auto cert = parse_certificate_der(data);
  if (cert) return PkeyPtr(X509_get_pubkey(cert->get()));
  return fail(ErrorCode::bad_key, "not a public key or certificate");
}

Result<PkeyPtr> load_public_key(const std::string& path) {
  ASSIGN_OR_RETURN(auto data, read_file(path, 1U << 20U));
  auto key = parse_public_key(data);
  if (!key) return fail(key.error().code, path + ": " + key.error().message);
  return key;
}

Result<X509Ptr> parse_certificate_der(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return openssl_fail(ErrorCode::malformed_der, "not a DER certificate");
  if (p != der.data() + der.size()) {
    return fail(ErrorCode::malformed_der, "trailing bytes after the certificate");
  }
  return cert;
}

Result<std::vector<X509Ptr>> parse_certificates(ByteView data) {
  ERR_clear_error();
  std::vector<X509Ptr> out;
  if (!looks_pem(data)) {
    ASSIGN_OR_RETURN(auto cert, parse_certificate_der(data));
    out.push_back(std::move(cert));
    return out;
  }
  auto bio = mem_bio(data);
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();  // end of input
  if (out.empty()) return fail(ErrorCode::malformed_der, "no certificate in the PEM data");
  return out;
}

Result<std::vector<X509Ptr>> load_certificates(const std::string& path) {
  ASSIGN_OR_RETURN(auto data, read_file(path, 4U << 20U));
  auto certs = parse_certificates(data);
  if (!certs) return fail(certs.error().code, path + ": " + certs.error().message);
  return certs;
}

Bytes certificate_der(X509* cert) {
  return to_der(cert, i2d_X509);
}

std::string certificate_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_text(bio.get());
}

Bytes public_key_der(EVP_PKEY* key) {
  return to_der(key, i2d_PUBKEY);
}

std::string certificate_subject(X509* cert) {
  return name_rfc2253(X509_get_subject_name(cert));
}

std::string name_rfc2253(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

Result<std::string> private_key_pem(EVP_PKEY* key, const std::optional<std::string>& passphrase) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const EVP_CIPHER* cipher = passphrase ? EVP_aes_256_cbc() : nullptr;
  const auto* pass =
      passphrase ? reinterpret_cast<const unsigned char*>(passphrase->data()) : nullptr;
  const int pass_len = passphrase ? static_cast<int>(passphrase->size()) : 0;
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, cipher, reinterpret_cast<const char*>(pass),
                                    pass_len, nullptr, nullptr) != 1) {
    return openssl_fail(ErrorCode::bad_key, "cannot encode the private key");
  }
  return bio_text(bio.get());
}

Bytes sha256(ByteView data) {
  Bytes out(SHA256_DIGEST_LENGTH);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_digest(), nullptr);
  return out;
}

}  // namespace vouchsafe::crypto
