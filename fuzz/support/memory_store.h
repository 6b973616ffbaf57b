// An asset store held in memory, for fuzz targets that drive the MASA: the
// records a request reads, and an audit log kept short so that a million
// runs do not grow it without bound. Not thread-safe (libFuzzer runs one
// input at a time).
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "store/asset_store.h"

namespace vouchsafe::fuzzing {

class MemoryStore : public store::AssetStore {
 public:
  // Entries beyond this, per device, drop the oldest.
  static constexpr std::size_t k_max_audit_entries = 64;

  Status add_ca(const store::CaRecord& ca) override {
    cas_[ca.name] = ca;
    return ok();
  }
  Result<std::optional<store::CaRecord>> find_ca(const std::string& name) override {
    const auto it = cas_.find(name);
    if (it == cas_.end()) return std::optional<store::CaRecord>();
    return std::optional<store::CaRecord>(it->second);
  }
  Result<std::vector<store::CaRecord>> list_cas() override {
    std::vector<store::CaRecord> out;
    for (const auto& [name, ca] : cas_) out.push_back(ca);
    return out;
  }
  Status retire_ca(const std::string& name, std::int64_t when) override {
    auto it = cas_.find(name);
    if (it == cas_.end()) return fail(ErrorCode::invalid_value, "no CA " + name);
    it->second.status = store::CaStatus::retired;
    it->second.retired_at = when;
    return ok();
  }
  Status set_ca_key_reference(const std::string& name, const std::string& reference) override {
    auto it = cas_.find(name);
    if (it == cas_.end()) return fail(ErrorCode::invalid_value, "no CA " + name);
    it->second.key_reference = reference;
    return ok();
  }
  Status add_devices(std::span<const store::DeviceRecord> devices) override {
    for (const auto& d : devices) {
      if (devices_.count(d.serial) != 0) return fail(ErrorCode::duplicate_member, d.serial);
    }
    for (const auto& d : devices) devices_[d.serial] = d;
    return ok();
  }
  Status reissue_device(const store::DeviceRecord& device, const std::string& reason) override {
    auto& d = devices_[device.serial];
    d = device;
    d.reissue_reason = reason;
    return ok();
  }
  Result<std::optional<store::DeviceRecord>> find_device(const std::string& serial) override {
    const auto it = devices_.find(serial);
    if (it == devices_.end()) return std::optional<store::DeviceRecord>();
    return std::optional<store::DeviceRecord>(it->second);
  }
  Result<std::vector<std::string>> existing_serials(std::span<const std::string> serials) override {
    std::vector<std::string> out;
    for (const auto& s : serials) {
      if (devices_.count(s) != 0) out.push_back(s);
    }
    return out;
  }
  Status for_each_device(const store::DeviceFilter& filter,
                         const std::function<bool(const store::DeviceRecord&)>& visit) override {
    for (const auto& [serial, d] : devices_) {
      if (!filter.product.empty() && d.product != filter.product) continue;
      if (!filter.issuing_ca.empty() && d.issuing_ca != filter.issuing_ca) continue;
      if (!visit(d)) break;
    }
    return ok();
  }
  Result<std::int64_t> count_devices() override {
    return static_cast<std::int64_t>(devices_.size());
  }
  Result<store::DeviceStatus> device_status(const std::string& serial) override {
    return status_[serial];
  }
  Status set_stolen(const std::string& serial, bool stolen, const std::string& /*reason*/,
                    std::int64_t /*when*/) override {
    status_[serial].stolen = stolen;
    return ok();
  }
  Status set_ownership_policy(const std::string& serial,
                              std::optional<store::OwnershipPolicy> policy) override {
    status_[serial].ownership = policy;
    return ok();
  }
  Status add_owner_anchor(const std::string& serial, const Bytes& certificate_der,
                          bool replace) override {
    auto& anchors = status_[serial].owner_anchors;
    if (replace) anchors.clear();
    if (std::find(anchors.begin(), anchors.end(), certificate_der) == anchors.end()) {
      anchors.push_back(certificate_der);
    }
    return ok();
  }
  Status record_event(const std::string& /*serial*/, const std::string& /*event*/,
                      const std::string& /*detail*/, std::int64_t /*when*/) override {
    return ok();
  }
  Status append_audit(const std::string& serial, const store::AuditEntry& entry) override {
    auto& log = audit_[serial];
    log.push_back(entry);
    if (log.size() > k_max_audit_entries) log.erase(log.begin());
    return ok();
  }
  Result<std::vector<store::AuditEntry>> audit_log(const std::string& serial) override {
    const auto it = audit_.find(serial);
    return it == audit_.end() ? std::vector<store::AuditEntry>{} : it->second;
  }
  Result<bool> audited_for_domain(const std::string& serial,
                                  const std::string& domain_id) override {
    const auto it = audit_.find(serial);
    if (it == audit_.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(),
                       [&](const store::AuditEntry& e) { return e.domain_id == domain_id; });
  }
  Result<std::vector<store::TicketKeyRecord>> ticket_keys(std::int64_t /*from*/) override {
    return std::vector<store::TicketKeyRecord>{};
  }
  Status add_ticket_key(const store::TicketKeyRecord& /*key*/,
                        std::int64_t /*drop_before*/) override {
    return ok();
  }
  Status add_masa_signer(const store::MasaSignerRecord& /*signer*/) override { return ok(); }
  Result<std::vector<store::MasaSignerRecord>> list_masa_signers() override {
    return std::vector<store::MasaSignerRecord>{};
  }
  Status ping() override { return ok(); }
  Status check_writable() override { return ok(); }

  // Forgets what requests wrote (audit entries), keeping CAs and devices,
  // so that one input's voucher does not change how the next is answered.
  void forget_requests() {
    audit_.clear();
    status_.clear();
  }

 private:
  std::map<std::string, store::CaRecord> cas_;
  std::map<std::string, store::DeviceRecord> devices_;
  std::map<std::string, store::DeviceStatus> status_;
  std::map<std::string, std::vector<store::AuditEntry>> audit_;
};

}  // namespace vouchsafe::fuzzing
