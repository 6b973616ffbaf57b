// Helpers shared by the unit tests: vector files, throw-away keys and certificates.
#pragma once

#include <string>
#include <vector>

#include "core/bytes.h"
#include "crypto/certificate_cache.h"
#include "crypto/handles.h"
#include "crypto/keys.h"

namespace vouchsafe::testing {

// Path of a file under ../shared/vectors.
std::string vector_path(const std::string& relative);
Bytes read_vector(const std::string& relative);
// Text file with RFC 8792 folding, base64 or hex, decoded to bytes.
Bytes read_vector_base64(const std::string& relative);
Bytes read_vector_hex(const std::string& relative);
std::vector<crypto::X509Ptr> vector_certs(const std::string& relative);
crypto::PkeyPtr vector_key(const std::string& relative);

// Unix time of an ISO date-time ("2021-05-01T00:00:00Z").
std::time_t at(const std::string& iso);

// A throw-away PKI made in memory: root CA -> signer certificate.
struct TestPki {
  crypto::PkeyPtr root_key;
  crypto::X509Ptr root;
  crypto::PkeyPtr signer_key;
  crypto::X509Ptr signer;
};
TestPki make_test_pki(crypto::KeyType signer_type = crypto::KeyType::p256,
                      const std::string& signer_cn = "Test MASA");

// A self-signed or issued certificate for tests (CA when is_ca).
crypto::X509Ptr make_certificate(EVP_PKEY* subject_key, const std::string& cn, EVP_PKEY* issuer_key,
                                 X509* issuer, bool is_ca, long days = 3650);

}  // namespace vouchsafe::testing
