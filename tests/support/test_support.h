// Helpers shared by the unit tests: vector files, throw-away keys and certificates.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/bytes.h"
#include "crypto/certificate_cache.h"
#include "crypto/handles.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "voucher/trust_policy.h"

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

// A signer for a TestPki's signer key, and the identity that signs with it
// and embeds [signer certificate, root].
struct TestIdentity {
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;
};
TestIdentity signing_identity(const TestPki& pki);

// Test-name suffix of a key type parameter ("P256", "Ed25519").
std::string key_type_name(const ::testing::TestParamInfo<crypto::KeyType>& param);

// The first line a shell command prints on stdout, without its newline
// ("" when it prints none): how the tests read the interop scripts'
// answers.
std::string first_line_of(const std::string& command);

// tests/interop/, where the scripts that use implementations we did not
// write live (run them as /usr/bin/python3 SCRIPT).
std::string interop_dir();

// A self-signed or issued certificate for tests (CA when is_ca).
crypto::X509Ptr make_certificate(EVP_PKEY* subject_key, const std::string& cn, EVP_PKEY* issuer_key,
                                 X509* issuer, bool is_ca, long days = 3650);

}  // namespace vouchsafe::testing
