// Loading the pledge's IDevID identity.
#include "pledge/identity.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>

#include <algorithm>
#include <cctype>

#include "crypto/keys.h"
#include "crypto/openssl_error.h"
#include "crypto/seed_derivation.h"
#include "pki/certificate_fields.h"

namespace vouchsafe::pledge {
namespace {

using Pkcs12Ptr = std::unique_ptr<PKCS12, crypto::Deleter<PKCS12, PKCS12_free>>;

void free_authsafes(STACK_OF(PKCS7) * safes) {
  sk_PKCS7_pop_free(safes, PKCS7_free);
}
void free_bags(STACK_OF(PKCS12_SAFEBAG) * bags) {
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
}
using AuthsafesPtr =
    std::unique_ptr<STACK_OF(PKCS7), crypto::Deleter<STACK_OF(PKCS7), free_authsafes>>;
using SafebagsPtr =
    std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), crypto::Deleter<STACK_OF(PKCS12_SAFEBAG), free_bags>>;

constexpr const char* k_pkcs12_hint =
    "export the bundle again with a current count (openssl pkcs12 -export -iter 600000)";

// The keys in these bags, shrouded (PKCS#8-encrypted), in nested bags too.
Status check_bag_costs(const STACK_OF(PKCS12_SAFEBAG) * bags, int depth) {
  if (depth > 4)
    return fail(ErrorCode::malformed_der, "the PKCS#12 bundle nests its bags too deep");
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    if (PKCS12_SAFEBAG_get_nid(bag) == NID_pkcs8ShroudedKeyBag) {
      const X509_ALGOR* alg = nullptr;
      X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
      TRY(crypto::check_derivation_cost(alg, "the PKCS#12 bundle's key", k_pkcs12_hint));
    } else if (PKCS12_SAFEBAG_get_nid(bag) == NID_safeContentsBag) {
      TRY(check_bag_costs(PKCS12_SAFEBAG_get0_safes(bag), depth + 1));
    }
  }
  return ok();
}

// Every encryption in a bundle states its own key derivation: each is
// bounded before it is spent. An encrypted part is opened (at its checked
// cost) to reach the keys inside; what cannot be read is left for
// PKCS12_parse to report.
Status check_bundle_costs(PKCS12* p12, const std::string& passphrase) {
  const AuthsafesPtr safes(PKCS12_unpack_authsafes(p12));
  if (!safes) return ok();
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* part = sk_PKCS7_value(safes.get(), i);
    SafebagsPtr bags;
    if (PKCS7_type_is_data(part)) {
      bags.reset(PKCS12_unpack_p7data(part));
    } else if (PKCS7_type_is_encrypted(part)) {
      const auto* encrypted = part->d.encrypted;
      if (encrypted == nullptr || encrypted->enc_data == nullptr) continue;
      TRY(crypto::check_derivation_cost(encrypted->enc_data->algorithm,
                                        "the PKCS#12 bundle's certificates", k_pkcs12_hint));
      bags.reset(
          PKCS12_unpack_p7encdata(part, passphrase.c_str(), static_cast<int>(passphrase.size())));
    }
    if (bags) TRY(check_bag_costs(bags.get(), 0));
  }
  ERR_clear_error();
  return ok();
}

// A bundle holds a key and two or three certificates.
constexpr std::size_t k_max_bundle = std::size_t{64} << 10U;
// The MAC iteration count a bundle may ask for (we write 600,000; see
// crypto/keys.cpp for the same ceiling on key files).
constexpr long k_max_mac_iterations = 5'000'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

Result<crypto::SecretBytes> decode_seed(std::string_view hex) {
  hex = trim(hex);
  if (hex.size() != 2 * crypto::k_seed_size) {
    return fail(ErrorCode::invalid_value, "a seed is 64 hex digits (256 bits)");
  }
  auto bytes = hex_decode(hex);
  if (!bytes) return fail(ErrorCode::invalid_value, "the seed is not hexadecimal");
  crypto::SecretBytes seed(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return seed;
}

}  // namespace

Result<PledgeIdentity> identity_from_key(crypto::PkeyPtr key, std::vector<crypto::X509Ptr> chain) {
  if (chain.empty()) return fail(ErrorCode::usage, "the pledge needs its IDevID certificate");
  if (!key || X509_check_private_key(chain.front().get(), key.get()) != 1) {
    crypto::openssl_reason("");
    return fail(ErrorCode::bad_key,
                "the key is not the IDevID's (the certificate holds another "
                "public key)");
  }
  ASSIGN_OR_RETURN(std::string serial, pki::device_serial_of(chain.front().get()));
  return PledgeIdentity{std::move(key), std::move(chain), std::move(serial)};
}

Result<PledgeIdentity> identity_from_files(const std::string& certificate_path,
                                           const std::string& key_path,
                                           const std::optional<std::string>& passphrase) {
  ASSIGN_OR_RETURN(auto chain, crypto::load_certificates(certificate_path));
  ASSIGN_OR_RETURN(auto key, crypto::load_private_key(key_path, passphrase));
  return identity_from_key(std::move(key), std::move(chain));
}

Result<PledgeIdentity> identity_from_pkcs12(ByteView bundle, const std::string& passphrase) {
  if (bundle.size() > k_max_bundle) {
    return fail(ErrorCode::input_too_large, "the PKCS#12 bundle is larger than 64 KiB");
  }
  const unsigned char* p = bundle.data();
  Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(bundle.size())));
  if (!p12) return crypto::openssl_fail(ErrorCode::malformed_der, "not a PKCS#12 bundle");
  // The MAC's iteration count is read before any is spent on it.
  const ASN1_INTEGER* iterations = nullptr;
  PKCS12_get0_mac(nullptr, nullptr, nullptr, &iterations, p12.get());
  if (iterations != nullptr && ASN1_INTEGER_get(iterations) > k_max_mac_iterations) {
    return fail(ErrorCode::bad_key,
                "the PKCS#12 bundle asks for more than 5,000,000 PBKDF2 "
                "iterations");
  }
  TRY(check_bundle_costs(p12.get(), passphrase));
  if (PKCS12_verify_mac(p12.get(), passphrase.c_str(), static_cast<int>(passphrase.size())) != 1) {
    crypto::openssl_reason("");
    return fail(ErrorCode::bad_passphrase, "the PKCS#12 bundle's passphrase is wrong");
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* cas = nullptr;
  if (PKCS12_parse(p12.get(), passphrase.c_str(), &key, &cert, &cas) != 1) {
    return crypto::openssl_fail(ErrorCode::bad_passphrase, "cannot open the PKCS#12 bundle");
  }
  crypto::PkeyPtr owned_key(key);
  crypto::X509Ptr owned_cert(cert);
  crypto::X509StackPtr owned_cas(cas);
  std::vector<crypto::X509Ptr> chain;
  chain.push_back(std::move(owned_cert));
  for (int i = 0; owned_cas && i < sk_X509_num(owned_cas.get()); ++i) {
    chain.push_back(crypto::share(sk_X509_value(owned_cas.get(), i)));
  }
  return identity_from_key(std::move(owned_key), std::move(chain));
}

Result<crypto::SecretBytes> seed_for(std::string_view text, const std::string& serial) {
  if (text.size() > (std::size_t{64} << 20U)) {
    return fail(ErrorCode::input_too_large, "the seeds file is larger than 64 MiB");
  }
  if (trim(text).find_first_of(",\n") == std::string_view::npos) return decode_seed(text);
  // docs/seed-derivation.md: "SERIAL,SEED" lines; '#' comments and blank
  // lines ignored.
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto comma = line.find(',');
    if (comma == std::string_view::npos) continue;
    if (trim(line.substr(0, comma)) == serial) return decode_seed(line.substr(comma + 1));
  }
  return fail(ErrorCode::invalid_value, "the seeds file has no line for " + serial);
}

Result<PledgeIdentity> identity_from_seed(std::vector<crypto::X509Ptr> chain, ByteView seed,
                                          const std::optional<Bytes>& firmware) {
  crypto::SecretBytes cdi;
  ByteView input = seed;
  if (firmware) {
    ASSIGN_OR_RETURN(cdi, crypto::dice_cdi(seed, crypto::sha256(*firmware)));
    input = cdi.view();
  }
  ASSIGN_OR_RETURN(const crypto::DerivedKey derived, crypto::derive_p256_key(input));
  ASSIGN_OR_RETURN(auto key, crypto::derived_key_to_pkey(derived));
  auto identity = identity_from_key(std::move(key), std::move(chain));
  if (!identity && identity.error().code == ErrorCode::bad_key) {
    return fail(ErrorCode::bad_key,
                std::string("the key derived from the seed") +
                    (firmware ? " and this firmware" : "") +
                    " is not the IDevID's: another seed, or (DICE) another firmware image");
  }
  return identity;
}

}  // namespace vouchsafe::pledge
