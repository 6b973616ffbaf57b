// Recording devices whose IDevIDs someone else issued (key mode imported):
// the MASA then issues vouchers for them as for devices made here.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "factory/home.h"
#include "store/asset_store.h"

namespace vouchsafe::factory {

struct DeviceImportOptions {
  std::string certificate_path;  // one or more certificates, PEM or DER
  std::string product;           // must be configured; its serial prefix is not applied
  std::string issuing_ca;        // empty: the recorded issuing CA whose key signed each
  std::string serial;            // empty: each certificate's subject serialNumber
};

struct DeviceImportReport {
  std::vector<store::DeviceRecord> devices;  // as recorded
  std::vector<std::string> notes;            // what the operator may want to know
};

// Every end-entity certificate of the file becomes a device (CA certificates
// in it are skipped). The whole file is checked first, then recorded in one
// transaction: a certificate that no recorded issuing CA signed, without a
// serial, or whose serial is recorded already leaves the store unchanged.
Result<DeviceImportReport> import_devices(const Home& home, store::AssetStore& store,
                                          const DeviceImportOptions& options);

}  // namespace vouchsafe::factory
