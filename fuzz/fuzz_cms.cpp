// Fuzzes the CMS SignedData verifier (and through it the DER reader) under
// the two trust policies a MASA and a pledge use: the RFC 8995 vendor CA as
// anchor, and the RFC 8995 MASA key pinned.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <utility>

#include "crypto/keys.h"
#include "voucher/cms.h"

namespace {

using namespace vouchsafe;

// RFC 8995 Appendix C.1.1 (vendor CA) and C.1.2 (MASA), as published.
constexpr const char* k_vendor_ca = R"(-----BEGIN CERTIFICATE-----
MIIB3TCCAWSgAwIBAgIESHvBJTAKBggqhkjOPQQDAjAmMSQwIgYDVQQDDBtoaWdo
d2F5LXRlc3QuZXhhbXBsZS5jb20gQ0EwHhcNMjEwNDEzMjAzNDI0WhcNMjMwNDEz
MjAzNDI0WjAmMSQwIgYDVQQDDBtoaWdod2F5LXRlc3QuZXhhbXBsZS5jb20gQ0Ew
djAQBgcqhkjOPQIBBgUrgQQAIgNiAAQu5/yktJbFLjMC87h7b+yTreFuF8GwewKH
L4mS0r0dVAQubqDUQcTrjvpXrXCpTojiLCzgp8fzkcUDkZ9LD/M90LDipiLNIOkP
juF8QkoAbT8pMrY83MS8y76wZ7AalNSjYzBhMA8GA1UdEwEB/wQFMAMBAf8wDgYD
VR0PAQH/BAQDAgEGMB0GA1UdDgQWBBReDKlSWozfqQ8DFOmW8YB2jFOKCDAfBgNV
HSMEGDAWgBReDKlSWozfqQ8DFOmW8YB2jFOKCDAKBggqhkjOPQQDAgNnADBkAjBg
N6BmiYAn4Q3lQ5pi8QK8D3JtqenLhKXGRNNBnl3OfUYWbhXe98zoPmH5A3wgxLcC
MH/p8xK7BsYkACtBqiFr2CXtgQcR72aPBr/IvvBYdCRFOU0E/DFpb8/b/mF7wyQx
/w==
-----END CERTIFICATE-----
)";

constexpr const char* k_masa = R"(-----BEGIN CERTIFICATE-----
MIIBcDCB9qADAgECAgQLhwoxMAoGCCqGSM49BAMCMCYxJDAiBgNVBAMMG2hpZ2h3
YXktdGVzdC5leGFtcGxlLmNvbSBDQTAeFw0yMTA0MTMyMTQwMTZaFw0yMzA0MTMy
MTQwMTZaMCgxJjAkBgNVBAMMHWhpZ2h3YXktdGVzdC5leGFtcGxlLmNvbSBNQVNB
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqgQVo0S54kT4yfkbBxumdHOcHrps
qbOpMKmiMln3oB1HAW25MJV+gqi4tMFfSJ0iEwt8kszfWXK4rLgJS2mnpaMQMA4w
DAYDVR0TAQH/BAIwADAKBggqhkjOPQQDAgNpADBmAjEArsthLdRcjW6GqgsGHcbT
YLoyczYl0yOFSYcczpQjeRqeQVUkHRUioUi7CsCrPBNzAjEAhjxns5Wi4uX5rfkd
nME0Mnj1z+rVRwOfAL/QWctRwpgEgSSKURNQsXWyL52otPS5
-----END CERTIFICATE-----
)";

// 2021-05-01T00:00:00Z: inside both certificates' validity, so the
// published vectors in the corpus verify all the way through.
constexpr std::time_t k_at = 1619827200;

struct Policies {
  voucher::TrustPolicy anchored;
  voucher::TrustPolicy pinned;
};

const Policies& policies() {
  static const Policies p = [] {
    auto anchors = crypto::parse_certificates(as_bytes(k_vendor_ca));
    auto key = crypto::parse_public_key(as_bytes(k_masa));
    if (!anchors || !key) std::abort();  // a bug in this file, not a finding
    Policies out{voucher::TrustPolicy::with_anchors(std::move(anchors).value()),
                 voucher::TrustPolicy::with_pinned_key(std::move(key).value())};
    out.anchored.at = k_at;
    out.pinned.at = k_at;
    return out;
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  const Policies& p = policies();
  auto anchored = voucher::verify_cms(input, p.anchored);
  auto pinned = voucher::verify_cms(input, p.pinned);
  // Whatever verifies must hand back a payload that lies inside the input.
  for (const auto* r : {&anchored, &pinned}) {
    if (*r && (*r)->payload.size() > size) std::abort();
  }
  return 0;
}
