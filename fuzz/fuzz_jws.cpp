// Fuzz target for verify_jws (the JWS JSON Serialization parser): each input
// is verified once against a pinned key and once against a trust anchor, and
// a payload that verifies goes on through decode_json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/date_time.h"
#include "crypto/keys.h"
#include "voucher/json_codec.h"
#include "voucher/jws.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {
namespace {

// draft-ietf-anima-jws-voucher §8: the "Manufacturer Voucher Signing Key"
// (the MASA of s8-jws-voucher) as a device would pin it...
constexpr std::string_view k_pinned_masa_key = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAERgiNx9Py5GbGOObvBUoEyumStSO8
JOcnw2TL82ev7/eG4eD7T6EUsNCdKM4W/4ZBRBcTX5ys2CqDsArjoDwjEQ==
-----END PUBLIC KEY-----
)";

// ...and its ManufacturerCA, the anchor of the pledge and MASA certificates,
// so that corpus entries seeded from the draft reach path validation.
constexpr std::string_view k_manufacturer_ca = R"(-----BEGIN CERTIFICATE-----
MIIB6DCCAY+gAwIBAgIGAZN3NDl2MAoGCCqGSM49BAMCMFgxCzAJBgNVBAYTAkFR
MRswGQYDVQQKDBJNYW51ZmFjdHVyZXIwMDEgQUcxEzARBgNVBAsMCk9yZ1ggVW5p
dEExFzAVBgNVBAMMDk1hbnVmYWN0dXJlckNBMB4XDTI0MTEyOTA5MTUzMVoXDTM5
MTEyOTA5MTUzMVowWDELMAkGA1UEBhMCQVExGzAZBgNVBAoMEk1hbnVmYWN0dXJl
cjAwMSBBRzETMBEGA1UECwwKT3JnWCBVbml0QTEXMBUGA1UEAwwOTWFudWZhY3R1
cmVyQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATfl/ScKL8rB6DPTjOX4ug/
mCmtrry59h0q4J0r/yEMmGGzKhNSskJ54u22q2kdGcMpAISH59a0SZ6mip60FzLz
o0UwQzASBgNVHRMBAf8ECDAGAQH/AgEBMA4GA1UdDwEB/wQEAwICBDAdBgNVHQ4E
FgQUlU7Vft0KvopLzyjGaNB2fcQyB/UwCgYIKoZIzj0EAwIDRwAwRAIgN0nzFkSM
iSMygrUBhPARioFiAb+zVPc7sdSy/o3nfSYCIBxGrzP3BssOJTjniu8loqHXyf9m
JKYL4lAyT0nAC0jc
-----END CERTIFICATE-----
)";

// A fixed validation time inside every draft certificate's validity, so a
// run does not depend on the day it happens.
std::time_t fixed_time() {
  return static_cast<std::time_t>(parse_date_time("2025-06-01T00:00:00Z")->unix_seconds());
}

TrustPolicy pinned_policy() {
  auto key = crypto::parse_public_key(as_bytes(k_pinned_masa_key));
  if (!key) __builtin_trap();  // a broken constant is a bug in this file
  return TrustPolicy::with_pinned_key(std::move(key).value());
}

TrustPolicy anchored_policy() {
  auto anchors = crypto::parse_certificates(as_bytes(k_manufacturer_ca));
  if (!anchors) __builtin_trap();
  auto policy = TrustPolicy::with_anchors(std::move(anchors).value());
  policy.at = fixed_time();
  return policy;
}

void verify_and_decode(ByteView input, const TrustPolicy& policy) {
  auto envelope = verify_jws(input, policy);
  if (envelope) (void)decode_json(envelope->payload);
}

}  // namespace
}  // namespace vouchsafe::voucher

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe::voucher;
  static const TrustPolicy pinned = pinned_policy();
  static const TrustPolicy anchored = anchored_policy();
  const vouchsafe::ByteView input(data, size);
  verify_and_decode(input, pinned);
  verify_and_decode(input, anchored);
  return 0;
}
