// Key and certificate I/O through OpenSSL's decoders.
#include "crypto/keys.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>

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

using Pbe2ParamPtr = std::unique_ptr<PBE2PARAM, Deleter<PBE2PARAM, PBE2PARAM_free>>;
using Pbkdf2ParamPtr = std::unique_ptr<PBKDF2PARAM, Deleter<PBKDF2PARAM, PBKDF2PARAM_free>>;
using PbeParamPtr = std::unique_ptr<PBEPARAM, Deleter<PBEPARAM, PBEPARAM_free>>;
using ScryptParamsPtr = std::unique_ptr<SCRYPT_PARAMS, Deleter<SCRYPT_PARAMS, SCRYPT_PARAMS_free>>;

template <typename T>
T* unpack(const ASN1_ITEM* item, const ASN1_TYPE* parameter) {
  if (parameter == nullptr) return nullptr;
  return static_cast<T*>(ASN1_TYPE_unpack_sequence(item, parameter));
}

// The PBKDF2 or PBE iteration count a key file may ask for: eight times the
// 600,000 we write (OWASP 2023), and the ceiling Java's PKCS#12 reader has.
// 2^31 iterations would hold the process for an hour before the passphrase
// is even found wrong.
// scrypt's work grows with N * r * p; OpenSSL bounds its memory (32 MiB),
// not its time. 2^20 * 8 * 1 is four times OWASP's N = 2^17, r = 8, p = 1.
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr std::int64_t k_max_pbe_iterations = 5'000'000;
constexpr std::int64_t k_max_scrypt_work = std::int64_t{1} << 23U;
#else
// The fuzz build: the same checks with costs it can pay on every input.
constexpr std::int64_t k_max_pbe_iterations = 2048;
constexpr std::int64_t k_max_scrypt_work = std::int64_t{1} << 14U;
#endif

std::int64_t integer_or_max(const ASN1_INTEGER* v) {
  std::int64_t out = 0;
  if (v == nullptr || ASN1_INTEGER_get_int64(&out, v) != 1 || out < 0) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return out;
}

// What an encryption's AlgorithmIdentifier asks of its key derivation.
struct Derivation {
  std::int64_t iterations = 0;  // PBKDF2 or a PKCS#5 v1.5 / PKCS#12 PBE scheme
  bool scrypt = false;
  std::int64_t n = 0, r = 0, p = 0;  // scrypt's parameters
};

Derivation derivation_of(const X509_ALGOR* alg) {
  Derivation d;
  if (alg == nullptr) return d;
  if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
    const Pbe2ParamPtr pbe2(unpack<PBE2PARAM>(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
    if (!pbe2 || pbe2->keyfunc == nullptr) return d;
    const auto kdf = OBJ_obj2nid(pbe2->keyfunc->algorithm);
    if (kdf == NID_id_pbkdf2) {
      const Pbkdf2ParamPtr p(
          unpack<PBKDF2PARAM>(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter));
      if (p) d.iterations = integer_or_max(p->iter);
    } else if (kdf == NID_id_scrypt) {
      const ScryptParamsPtr p(
          unpack<SCRYPT_PARAMS>(ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter));
      if (!p) return d;
      d.scrypt = true;
      d.n = integer_or_max(p->costParameter);
      d.r = integer_or_max(p->blockSize);
      d.p = integer_or_max(p->parallelizationParameter);
    }
  } else if (const PbeParamPtr p(unpack<PBEPARAM>(ASN1_ITEM_rptr(PBEPARAM), alg->parameter)); p) {
    d.iterations = integer_or_max(p->iter);  // PKCS#5 v1.5 and PKCS#12 PBE schemes
  }
  return d;
}

// The key derivation of an encrypted PKCS#8 key; nothing for a key that is
// not PKCS#8-encrypted (OpenSSL's decoder then says what it is).
std::optional<Derivation> pem_derivation(ByteView pem) {
  auto bio = mem_bio(pem);
  const X509SigPtr sig(PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
  if (!sig) {
    ERR_clear_error();
    return std::nullopt;
  }
  const X509_ALGOR* alg = nullptr;
  X509_SIG_get0(sig.get(), &alg, nullptr);
  return derivation_of(alg);
}

constexpr const char* k_reencrypt_hint =
    "re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000";

Status check_cost(const Derivation& d, const std::string& what, const std::string& hint) {
  if (d.scrypt && (d.n > k_max_scrypt_work || d.r > k_max_scrypt_work || d.p > k_max_scrypt_work ||
                   d.n * d.r > k_max_scrypt_work || d.n * d.r * d.p > k_max_scrypt_work)) {
    return fail(ErrorCode::bad_key, what + " uses scrypt parameters (N " + std::to_string(d.n) +
                                        ", r " + std::to_string(d.r) + ", p " +
                                        std::to_string(d.p) + ") that ask for more work than " +
                                        std::to_string(k_max_scrypt_work) + " (N * r * p); " +
                                        hint);
  }
  if (d.iterations > k_max_pbe_iterations) {
    return fail(ErrorCode::bad_key, what + " asks for " +
                                        (d.iterations == std::numeric_limits<std::int64_t>::max()
                                             ? std::string("an absurd number of")
                                             : std::to_string(d.iterations)) +
                                        " key-derivation iterations; more than " +
                                        std::to_string(k_max_pbe_iterations) + " are refused; " +
                                        hint);
  }
  return ok();
}

}  // namespace

Status check_derivation_cost(const X509_ALGOR* alg, const std::string& what,
                             const std::string& hint) {
  return check_cost(derivation_of(alg), what, hint);
}

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

namespace {

// The key, and in `derivation` what its encryption's key derivation asked
// (checked against our bounds before any of it is spent).
Result<PkeyPtr> parse_key(ByteView data, const std::optional<std::string>& passphrase,
                          std::optional<Derivation>& derivation) {
  ERR_clear_error();
  auto bio = mem_bio(data);
  const std::string* pass = passphrase ? &*passphrase : nullptr;
  PkeyPtr key;
  if (looks_pem(data)) {
    if (pass != nullptr && as_text(data).find("ENCRYPTED PRIVATE KEY") != std::string_view::npos) {
      derivation = pem_derivation(data);
      if (derivation)
        TRY(check_cost(*derivation, "the private key's encryption", k_reencrypt_hint));
    }
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

}  // namespace

Result<PkeyPtr> parse_private_key(ByteView data, const std::optional<std::string>& passphrase) {
  std::optional<Derivation> derivation;
  return parse_key(data, passphrase, derivation);
}

Result<PkeyPtr> load_private_key(const std::string& path,
                                 const std::optional<std::string>& passphrase) {
  ASSIGN_OR_RETURN(auto data, read_file(path, 1U << 20U));
  std::optional<Derivation> derivation;
  auto key = parse_key(data, passphrase, derivation);
  OPENSSL_cleanse(data.data(), data.size());
  if (!key) return fail(key.error().code, path + ": " + key.error().message);
  // Files written before we raised the count (or by other tools at
  // OpenSSL's 2,048) still open; the operator is told to re-encrypt them.
  if (derivation && !derivation->scrypt && derivation->iterations < k_pbkdf2_iterations) {
    (void)std::fprintf(stderr,
                       "vouchsafe: warning: %s is encrypted with %lld key-derivation iterations, "
                       "fewer than the %d we write; %s -in %s -out NEW, then replace it\n",
                       path.c_str(), static_cast<long long>(derivation->iterations),
                       k_pbkdf2_iterations, k_reencrypt_hint, path.c_str());
  }
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
  constexpr int k_salt_bytes = 16;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!passphrase) {
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      return openssl_fail(ErrorCode::bad_key, "cannot encode the private key");
    }
    return bio_text(bio.get());
  }
  // PEM_write_bio_PKCS8PrivateKey takes no iteration count (it uses
  // OpenSSL's 2,048): encrypt the PKCS#8 structure here. Freeing it
  // cleanses the key it holds.
  const Pkcs8InfoPtr info(EVP_PKEY2PKCS8(key));
  // pbe_nid -1 with a cipher: PBES2, whose PRF is HMAC-SHA256 in OpenSSL 3.
  // A 16-byte salt (NIST SP 800-132 asks at least 128 bits; OpenSSL's
  // default is 8 bytes).
  const X509SigPtr sealed(info ? PKCS8_encrypt_ex(-1, EVP_aes_256_cbc(), passphrase->data(),
                                                  static_cast<int>(passphrase->size()), nullptr,
                                                  k_salt_bytes, k_pbkdf2_iterations, info.get(),
                                                  nullptr, nullptr)
                               : nullptr);
  if (!sealed || PEM_write_bio_PKCS8(bio.get(), sealed.get()) != 1) {
    return openssl_fail(ErrorCode::bad_key, "cannot encrypt the private key");
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
