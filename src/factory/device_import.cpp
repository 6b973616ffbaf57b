// Device import: certificates checked against the recorded issuing CAs,
// then recorded all at once.
#include "factory/device_import.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "crypto/handles.h"
#include "crypto/keys.h"
#include "crypto/openssl_error.h"
#include "pki/certificate_fields.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::factory {
namespace {

struct IssuingCa {
  store::CaRecord record;
  crypto::X509Ptr cert;
};

bool is_ca_certificate(X509* cert) {
  return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

// Whether ca's key signed cert, and ca's subject is cert's issuer (a MASA
// builds the IDevID's path by name: RFC 5280 §6.1).
bool signed_by(X509* cert, X509* ca) {
  const bool issued =
      X509_check_issued(ca, cert) == X509_V_OK && X509_verify(cert, X509_get0_pubkey(ca)) == 1;
  crypto::openssl_reason("");  // a failed verification leaves errors queued
  return issued;
}

// The issuing CAs a certificate may come from: the one named, or every
// recorded issuing CA (imported or ours, active or retired: a retired CA's
// IDevIDs stay valid).
Result<std::vector<IssuingCa>> candidate_cas(store::AssetStore& store, const std::string& named) {
  std::vector<store::CaRecord> records;
  if (!named.empty()) {
    ASSIGN_OR_RETURN(auto found, store.find_ca(named));
    if (!found || found->role != store::CaRole::issuing) {
      return fail(ErrorCode::usage,
                  "no issuing CA named " + named + " (see `vouchsafe pki issuing-ca list`)");
    }
    records.push_back(std::move(*found));
  } else {
    ASSIGN_OR_RETURN(auto all, store.list_cas());
    for (auto& ca : all) {
      if (ca.role == store::CaRole::issuing) records.push_back(std::move(ca));
    }
  }
  std::vector<IssuingCa> out;
  for (auto& record : records) {
    auto cert = crypto::parse_certificate_der(record.certificate_der);
    if (!cert) continue;  // a record we cannot read signed nothing we can check
    out.push_back({std::move(record), std::move(cert).value()});
  }
  return out;
}

// As crypto::certificate_subject writes the subject (RFC 2253).
std::string issuer_of(X509* cert) {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string describe(std::size_t index, X509* cert) {
  return "certificate #" + std::to_string(index + 1) + " (" + crypto::certificate_subject(cert) +
         ")";
}

}  // namespace

Result<DeviceImportReport> import_devices(const Home& home, store::AssetStore& store,
                                          const DeviceImportOptions& options) {
  ASSIGN_OR_RETURN(auto config, load_config(home));
  ASSIGN_OR_RETURN(const ProductConfig* product, config.product(options.product));
  const std::string& path = options.certificate_path;
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(path));

  DeviceImportReport report;
  std::vector<std::size_t> devices;  // indexes of the end-entity certificates
  for (std::size_t i = 0; i < certs.size(); ++i) {
    if (is_ca_certificate(certs[i].get())) {
      report.notes.push_back(path + ": skipped " + describe(i, certs[i].get()) +
                             ": a CA certificate (record CAs with `vouchsafe pki issuing-ca "
                             "import`)");
    } else {
      devices.push_back(i);
    }
  }
  if (devices.empty()) {
    return fail(ErrorCode::invalid_value,
                path +
                    " holds no end-entity certificate, only CA certificates: give the "
                    "devices' IDevIDs, and import their CA with `vouchsafe pki issuing-ca "
                    "import`");
  }
  if (!options.serial.empty() && devices.size() != 1) {
    return fail(ErrorCode::usage, "--serial names one device, but " + path + " holds " +
                                      std::to_string(devices.size()) +
                                      " IDevIDs: leave it out to take each one's subject "
                                      "serialNumber");
  }
  ASSIGN_OR_RETURN(auto cas, candidate_cas(store, options.issuing_ca));

  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::map<std::string, std::size_t> seen;  // serial -> certificate index
  for (const auto i : devices) {
    X509* cert = certs[i].get();
    const auto what = path + ": " + describe(i, cert);
    // RFC 8995 §2.3.1: the serial-number is the IDevID's subject serialNumber.
    ASSIGN_OR_RETURN(auto serial,
                     pki::name_serial_number(X509_get_subject_name(cert), what + "'s subject"));
    if (!options.serial.empty() && !serial.empty() && serial != options.serial) {
      // One IDevID is one device: not the same certificate under a second serial.
      ASSIGN_OR_RETURN(auto recorded, store.find_device(serial));
      if (recorded && recorded->certificate_der == crypto::certificate_der(cert)) {
        return fail(ErrorCode::duplicate_member,
                    what + " is recorded already, as device " + serial + "; nothing was imported");
      }
      report.notes.push_back(what + " says serialNumber " + serial + "; recorded as " +
                             options.serial +
                             " (--serial). The MASA matches voucher-requests against the "
                             "certificate's serialNumber");
    }
    if (!options.serial.empty()) serial = options.serial;
    if (serial.empty()) {
      return fail(ErrorCode::invalid_value,
                  what +
                      " has no subject serialNumber, so no device serial: give one with "
                      "--serial SERIAL, importing that certificate alone");
    }
    if (auto valid = pki::check_device_serial(serial); !valid) {
      return fail(ErrorCode::invalid_value, what + ": " + valid.error().message);
    }
    if (auto [at, fresh] = seen.emplace(serial, i); !fresh) {
      return fail(ErrorCode::duplicate_member, path + ": certificates #" +
                                                   std::to_string(at->second + 1) + " and #" +
                                                   std::to_string(i + 1) + " both carry serial " +
                                                   serial + "; remove one of them");
    }

    const IssuingCa* issuer = nullptr;
    for (const auto& ca : cas) {
      if (signed_by(cert, ca.cert.get())) {
        issuer = &ca;
        break;
      }
    }
    if (issuer == nullptr) {
      const auto issuer_name = " (issuer " + issuer_of(cert) + ")";
      if (!options.issuing_ca.empty()) {
        return fail(ErrorCode::untrusted_chain,
                    what + " is not signed by issuing CA " + options.issuing_ca + issuer_name +
                        ": name the CA that signed it, or leave --issuing-ca out");
      }
      return fail(ErrorCode::untrusted_chain,
                  what + " is not signed by any recorded issuing CA" + issuer_name +
                      ": record its CA first with `vouchsafe pki issuing-ca import --name NAME "
                      "--certificate CA.pem`");
    }
    if (!issuer->record.product.empty() && issuer->record.product != product->name) {
      return fail(ErrorCode::usage, what + " is signed by issuing CA " + issuer->record.name +
                                        ", which serves product " + issuer->record.product +
                                        ", not " + product->name);
    }

    store::DeviceRecord d;
    d.serial = serial;
    d.product = product->name;
    d.issuing_ca = issuer->record.name;
    d.certificate_der = crypto::certificate_der(cert);
    d.key_mode = store::KeyMode::imported;
    d.issued_at = now;  // when it entered this store; the certificate says when it was made
    report.devices.push_back(std::move(d));
  }

  std::vector<std::string> serials;
  for (const auto& d : report.devices) serials.push_back(d.serial);
  ASSIGN_OR_RETURN(auto existing, store.existing_serials(serials));
  if (!existing.empty()) {
    ASSIGN_OR_RETURN(auto recorded, store.find_device(existing.front()));
    std::string detail;
    if (recorded) {
      const auto& mine = *std::find_if(report.devices.begin(), report.devices.end(),
                                       [&](const auto& d) { return d.serial == existing.front(); });
      detail = recorded->certificate_der == mine.certificate_der
                   ? " with this very certificate (imported before?)"
                   : " with another IDevID, from issuing CA " + recorded->issuing_ca;
    }
    const auto others = existing.size() == 1
                            ? std::string()
                            : " (" + std::to_string(existing.size()) + " of its " +
                                  std::to_string(report.devices.size()) + " devices are)";
    return fail(ErrorCode::duplicate_member,
                "device " + existing.front() + " is recorded already" + detail +
                    ", so nothing from " + path + " was imported" + others +
                    ": remove the recorded devices from the file and run again");
  }
  // One transaction: all of the file or none of it.
  TRY(store.add_devices(report.devices));
  return report;
}

}  // namespace vouchsafe::factory
