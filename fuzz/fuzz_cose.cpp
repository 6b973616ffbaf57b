// Fuzz target for verify_cose (the COSE_Sign1 envelope), once with a pinned
// key and once with a trust anchor, so both signer paths see every input. A
// message that verifies has its payload fed to decode_cbor as well.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "crypto/keys.h"
#include "voucher/cbor_codec.h"
#include "voucher/cose.h"

namespace {

using vouchsafe::ByteView;
using vouchsafe::voucher::TrustPolicy;

// cBRSKI C.2.4: the MASA CA, which signs the C.5 voucher in the seed corpus.
constexpr std::string_view k_masa_ca = R"(-----BEGIN CERTIFICATE-----
MIIB8TCCAZagAwIBAgIJAOOc2hfhOGoKMAoGCCqGSM49BAMCMEsxFTATBgNVBAMM
DG1hc2Euc3Rvay5ubDETMBEGA1UECgwKdmFuZGVyc3RvazEQMA4GA1UEBwwHSGVs
bW9uZDELMAkGA1UEBhMCTkwwHhcNMjIxMjA5MTI1MDQ3WhcNMzIxMjA2MTI1MDQ3
WjBLMRUwEwYDVQQDDAxtYXNhLnN0b2submwxEzARBgNVBAoMCnZhbmRlcnN0b2sx
EDAOBgNVBAcMB0hlbG1vbmQxCzAJBgNVBAYTAk5MMFkwEwYHKoZIzj0CAQYIKoZI
zj0DAQcDQgAEkvTVZViXc7cDWPNcj5R9lDg2FoZWAGX7KpxD0hWSp6vJqvIBe/GV
W2IuqthRIPJJDkWP66SFP1+0kLEbg/sDFqNjMGEwHAYDVR0RBBUwE4ERaW5mb0Bt
YXNhLnN0b2submwwDgYDVR0PAQH/BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQMw
HQYDVR0OBBYEFMuNmMp0xRtY3ees74aalEOo1mamMAoGCCqGSM49BAMCA0kAMEYC
IQCUP6UmUWgWOFt4mtjDr45JKCJgViZDShSYPuHkga3KGwIhALpNqv36aEJ0Ayuo
QWvikAyee7jAnPcOP7Q2irOcPjEO
-----END CERTIFICATE-----
)";

// cBRSKI C.2.3: the domain CA that the C.4 registrar certificate chains to.
constexpr std::string_view k_domain_ca = R"(-----BEGIN CERTIFICATE-----
MIICQjCCAemgAwIBAgIIKuoEE6Qtwc4wCgYIKoZIzj0EAwIwcjEcMBoGA1UEAwwT
Q3VzdG9tLUVSIEdsb2JhbCBDQTELMAkGA1UECwwCSVQxGDAWBgNVBAoMD0N1c3Rv
bS1FUiwgSW5jLjERMA8GA1UEBwwIU2FuIEpvc2UxCzAJBgNVBAgMAkNBMQswCQYD
VQQGEwJVUzAeFw0yMjEyMDkxMjUwNDdaFw0zMjEyMDYxMjUwNDdaMHIxHDAaBgNV
BAMME0N1c3RvbS1FUiBHbG9iYWwgQ0ExCzAJBgNVBAsMAklUMRgwFgYDVQQKDA9D
dXN0b20tRVIsIEluYy4xETAPBgNVBAcMCFNhbiBKb3NlMQswCQYDVQQIDAJDQTEL
MAkGA1UEBhMCVVMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASXse2WkWSTCYW7
uKyaKvlFXN/upLEd4uedBov6gDkmtABSUbNPHAgVpMvgP70bvLY19kMaIt54ZTuH
uZU37OFso2kwZzAlBgNVHREEHjAcgRpoZWxwQGN1c3RvbS1lci5leGFtcGxlLmNv
bTAOBgNVHQ8BAf8EBAMCAYYwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkup2
QEBKj6tPJwvzvDedhs1ygPgwCgYIKoZIzj0EAwIDRwAwRAIgZhXfw3AR9nN42P0c
Kj+90T9R9rZvLXziehMYIbtw8MACIGmG2NIospJuI54ZC48YJcnBTGeV/6CzJL1N
rC7LaNcT
-----END CERTIFICATE-----
)";

TrustPolicy make_pinned() {
  auto key = vouchsafe::crypto::parse_public_key(vouchsafe::as_bytes(k_masa_ca));
  if (!key) __builtin_trap();
  return TrustPolicy::with_pinned_key(std::move(key).value());
}

TrustPolicy make_anchored() {
  auto certs = vouchsafe::crypto::parse_certificates(vouchsafe::as_bytes(k_domain_ca));
  if (!certs) __builtin_trap();
  TrustPolicy policy = TrustPolicy::with_anchors(std::move(certs).value());
  policy.at = 1685577600;  // 2023-06-01, while the C.4 registrar certificate is valid
  return policy;
}

void verify(ByteView input, const TrustPolicy& policy) {
  auto envelope = vouchsafe::voucher::verify_cose(input, policy);
  if (envelope) (void)vouchsafe::voucher::decode_cbor(envelope->payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const TrustPolicy pinned = make_pinned();
  static const TrustPolicy anchored = make_anchored();
  const ByteView input(data, size);
  verify(input, pinned);
  verify(input, anchored);
  return 0;
}
