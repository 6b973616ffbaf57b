// Fuzz target for X.509 certificates as our code reads them: PEM or DER
// files (crypto::parse_certificates: trust anchors, chains, owner anchors),
// our own DER reader (crypto::read_certificate, every certificate an
// envelope carries), the fields the MASA takes from an IDevID, and path
// validation over what parsed (crypto::TrustStore).
#include <cstddef>
#include <cstdint>

#include "crypto/certificate_cache.h"
#include "crypto/keys.h"
#include "crypto/trust_store.h"
#include "pki/certificate_fields.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  const ByteView input(data, size);
  if (auto decoded = crypto::read_certificate(input)) {
    const crypto::DecodedCertificate& cert = **decoded;
    // Every view points into the certificate's own DER.
    for (const auto& ext : cert.extensions) {
      if (ext.value.data() < cert.der.data() ||
          ext.value.data() + ext.value.size() > cert.der.data() + cert.der.size()) {
        __builtin_trap();
      }
    }
    (void)crypto::subject_key_identifier(cert);
    (void)pki::device_serial_of(cert);
    (void)pki::idevid_issuer_of(cert);
  }
  auto certs = crypto::parse_certificates(input);
  if (!certs) return 0;
  for (const auto& cert : *certs) {
    (void)crypto::certificate_subject(cert.get());
    (void)pki::device_serial_of(cert.get());
    // What we write must read back as the same certificate.
    const Bytes der = crypto::certificate_der(cert.get());
    auto again = crypto::parse_certificate_der(der);
    if (!again || crypto::certificate_der(again->get()) != der) __builtin_trap();
  }
  // The last certificate as the anchor, the first as the leaf, the rest
  // between: the shape of every chain we validate.
  std::vector<crypto::X509Ptr> anchors;
  anchors.push_back(crypto::share(certs->back().get()));
  const crypto::TrustStore trust(std::move(anchors));
  std::vector<crypto::CertificateRef> untrusted;
  for (std::size_t i = 1; i + 1 < certs->size(); ++i) {
    untrusted.push_back(crypto::make_certificate_ref(crypto::share((*certs)[i].get())));
  }
  (void)trust.validate(crypto::make_certificate_ref(crypto::share(certs->front().get())), untrusted,
                       std::time_t{1'700'000'000});
  return 0;
}
