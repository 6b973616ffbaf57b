// The owner's domain CA as the registrar runs it: the anchor that vouchers
// pin (RFC 8995 §5.6: pinned-domain-cert), the issuer of the registrar's
// own certificate and of every pledge's LDevID (§5.9.3).
#pragma once

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/handles.h"

namespace vouchsafe::registrar {

struct LdevidProfile {
  std::string organization;  // subject O of every LDevID; empty: none
  std::chrono::seconds validity{std::chrono::hours(24 * 365)};
  // The enrolling voucher (docs/enrolling-voucher.md): the key was
  // co-generated and no proof of possession was made; the LDevID says so
  // in an extension of ours.
  bool co_generated_key = false;
};

class DomainCa {
 public:
  // The CA certificate and its key (checked to match, and to be a CA with
  // a subjectKeyIdentifier), and any certificates above it (an imported
  // domain CA may be an intermediate).
  static Result<std::unique_ptr<DomainCa>> create(crypto::X509Ptr certificate, crypto::PkeyPtr key,
                                                  std::vector<crypto::X509Ptr> above = {});

  [[nodiscard]] X509* certificate() const { return certificate_.get(); }
  // The CA and the certificates above it: what EST cacerts distributes.
  [[nodiscard]] std::vector<X509*> certificates() const;

  // An LDevID (IEEE 802.1AR §8; RFC 8995 §5.9.3) for the key of a checked
  // request: subject serialNumber = the pledge's IDevID serialNumber (and
  // O from the profile), CA:FALSE, keyUsage digitalSignature, extended key
  // usage clientAuth and serverAuth (the LDevID authenticates the device as
  // a TLS client and server in the domain), SKI, AKI; valid from now for
  // the profile's validity, and never beyond the CA's own notAfter.
  // Thread-safe.
  [[nodiscard]] Result<crypto::X509Ptr> issue_ldevid(EVP_PKEY* subject_key,
                                                     const std::string& serial,
                                                     const LdevidProfile& profile,
                                                     std::time_t now) const;

 private:
  DomainCa(crypto::X509Ptr certificate, crypto::PkeyPtr key, std::vector<crypto::X509Ptr> above)
      : certificate_(std::move(certificate)), key_(std::move(key)), above_(std::move(above)) {}
  crypto::X509Ptr certificate_;
  crypto::PkeyPtr key_;
  std::vector<crypto::X509Ptr> above_;
};

// What `registrar init` makes for an owner without a CA of its own: a
// self-signed domain CA (the manufacturer PKI's root profile: CA:TRUE,
// keyCertSign, SKI) and the registrar's certificate under it, carrying
// id-kp-cmcRA (RFC 8995 §2.5.3: the MASA recognises a registrar by it),
// clientAuth (its TLS client certificate towards the MASA) and serverAuth
// (the TLS server pledges connect to).
struct RegistrarCertificateRequest {
  std::string organization;
  std::string common_name = "registrar";
  std::string subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  long validity_days = 365;
};
Result<crypto::X509Ptr> make_domain_ca_certificate(EVP_PKEY* key, const std::string& organization);
Result<crypto::X509Ptr> make_registrar_certificate(EVP_PKEY* key,
                                                   const RegistrarCertificateRequest& request,
                                                   X509* ca, EVP_PKEY* ca_key);

}  // namespace vouchsafe::registrar
