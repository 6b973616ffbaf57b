// The manufacturer's asset store: certificate authorities and every device
// with its IDevID. One interface; SQLite is the embedded backend and the
// MASA reads the same records.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::store {

enum class CaRole { root, issuing };
enum class CaStatus { active, retired };

struct CaRecord {
  std::string name;
  CaRole role = CaRole::issuing;
  std::string factory;  // empty: any factory
  std::string product;  // empty: any product
  Bytes certificate_der;
  std::string key_path;  // encrypted private key file; empty once retired
  CaStatus status = CaStatus::active;
  std::int64_t issued_count = 0;
  std::int64_t created_at = 0;  // Unix seconds
  std::optional<std::int64_t> retired_at;
  std::int64_t max_certificates = 0;  // automatic retirement; 0 = no limit
  std::int64_t max_age_seconds = 0;   // automatic retirement; 0 = no limit
};

// How the device's IDevID key came to be (draft-richardson-anima-masa-considerations §2).
enum class KeyMode { csr, generated, seed, dice };
std::string_view key_mode_name(KeyMode mode);
Result<KeyMode> parse_key_mode(std::string_view name);

struct DeviceRecord {
  std::string serial;  // the IDevID subject serialNumber, the voucher serial-number
  std::string product;
  std::string issuing_ca;
  Bytes certificate_der;
  KeyMode key_mode = KeyMode::csr;
  std::int64_t issued_at = 0;
  int reissue_count = 0;
  std::string reissue_reason;  // the latest reason, empty if never reissued
};

struct DeviceFilter {
  std::string product;  // empty: all
  std::string issuing_ca;
};

class AssetStore {
 public:
  virtual ~AssetStore() = default;

  virtual Status add_ca(const CaRecord& ca) = 0;
  virtual Result<std::optional<CaRecord>> find_ca(const std::string& name) = 0;
  virtual Result<std::vector<CaRecord>> list_cas() = 0;
  virtual Status retire_ca(const std::string& name, std::int64_t when) = 0;

  // Adds devices in one transaction: all or none. A serial already present
  // is a duplicate_member error naming it. Each CA's issued_count grows by
  // the devices it signed here.
  virtual Status add_devices(std::span<const DeviceRecord> devices) = 0;
  // Replaces a device's IDevID (explicit reissue), recording the reason.
  virtual Status reissue_device(const DeviceRecord& device, const std::string& reason) = 0;
  virtual Result<std::optional<DeviceRecord>> find_device(const std::string& serial) = 0;
  // Which of these serials are already recorded.
  virtual Result<std::vector<std::string>> existing_serials(
      std::span<const std::string> serials) = 0;
  // Streams devices in serial order; the callback returns false to stop.
  virtual Status for_each_device(const DeviceFilter& filter,
                                 const std::function<bool(const DeviceRecord&)>& visit) = 0;
  virtual Result<std::int64_t> count_devices() = 0;
};

// Opens (creating if needed) the SQLite store at path, in WAL mode, and
// brings its schema up to date.
Result<std::unique_ptr<AssetStore>> open_sqlite_store(const std::string& path);

}  // namespace vouchsafe::store
