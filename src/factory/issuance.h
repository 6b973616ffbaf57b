// IDevID issuance, in the four ways a factory keys its devices
// (draft-richardson-anima-masa-considerations §2): a CSR from a key made on
// the device, a key made off the device and shipped in a bundle, a key
// derived from a 256-bit seed, and a DICE key bound to the firmware.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "core/result.h"
#include "factory/authority.h"
#include "factory/home.h"
#include "store/asset_store.h"

namespace vouchsafe::factory {

struct IssueContext {
  store::AssetStore& store;
  const FactoryConfig& config;
  const ProductConfig& product;
  IssuingCaPool& pool;
};

// A device serial gets one IDevID; a second needs reissue_reason, recorded.
Result<store::DeviceRecord> issue_from_csr(IssueContext& ctx, const std::string& serial,
                                           ByteView csr,
                                           const std::optional<std::string>& reissue_reason);

// Generates the key, issues the certificate, and writes both (with the CA
// chain) as a PKCS#12 bundle encrypted with AES-256 under bundle_passphrase.
// The private key is written nowhere else.
Result<store::DeviceRecord> issue_generated(IssueContext& ctx, const std::string& serial,
                                            const std::string& bundle_path,
                                            const std::string& bundle_passphrase,
                                            const std::optional<std::string>& reissue_reason);

struct BatchOptions {
  unsigned threads = 0;                  // 0: one per core
  std::size_t chunk_size = 1024;         // devices per store transaction
  std::optional<Bytes> firmware_sha256;  // seeds only: DICE keys bound to this firmware
  bool quiet = false;
  const std::atomic<bool>* stop = nullptr;  // set by Ctrl-C: finish the chunk, then stop
};

struct BatchReport {
  std::int64_t total = 0;    // devices in the input
  std::int64_t issued = 0;   // issued by this run
  std::int64_t skipped = 0;  // already in the store (an earlier, interrupted run)
  bool interrupted = false;
};

// Seeds file: one device per line, "SERIAL,SEED" with SEED 64 hex digits;
// blank lines and lines starting with '#' are ignored. The whole file is
// checked before anything is issued; then it is streamed in chunks, each
// committed in one transaction, so a re-run after a crash resumes exactly.
Result<BatchReport> run_seed_batch(IssueContext& ctx, const std::string& seeds_path,
                                   const BatchOptions& options);

// Every *.csr / *.pem / *.der file of a directory; the serial is the CSR's
// subject serialNumber, else the file name without its extension.
Result<BatchReport> run_csr_batch(IssueContext& ctx, const std::string& directory,
                                  const BatchOptions& options);

}  // namespace vouchsafe::factory
