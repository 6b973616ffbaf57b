// Issuance pipelines.
#include "factory/issuance.h"

#include <openssl/pkcs12.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <thread>
#include <unordered_set>

#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/secret.h"
#include "crypto/seed_derivation.h"
#include "factory/progress.h"
#include "factory/seed_file.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::factory {
namespace {

namespace fs = std::filesystem;
using Pkcs12Ptr = std::unique_ptr<PKCS12, crypto::Deleter<PKCS12, PKCS12_free>>;

std::int64_t now_seconds() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

Status check_serial(const IssueContext& ctx, const std::string& serial) {
  TRY(pki::check_device_serial(serial));
  return check_structured_serial(ctx.product, serial);
}

// Whether a new IDevID may be issued for serial: one per device unless a
// reissue with a reason is asked for.
Status check_first_or_reissue(IssueContext& ctx, const std::string& serial,
                              const std::optional<std::string>& reissue_reason) {
  ASSIGN_OR_RETURN(auto existing, ctx.store.find_device(serial));
  if (existing && !reissue_reason) {
    return fail(ErrorCode::duplicate_member,
                "device " + serial + " already has an IDevID (from CA " + existing->issuing_ca +
                    "); a second one needs --reissue --reason TEXT");
  }
  if (!existing && reissue_reason) {
    return fail(ErrorCode::invalid_value, "device " + serial + " has no IDevID to reissue");
  }
  if (reissue_reason && reissue_reason->empty()) {
    return fail(ErrorCode::usage, "a reissue needs a reason (--reason TEXT)");
  }
  return ok();
}

Result<store::DeviceRecord> sign_device(IssueContext& ctx, const std::string& serial, ByteView spki,
                                        store::KeyMode mode) {
  ASSIGN_OR_RETURN(ActiveCa * ca, ctx.pool.next());
  ASSIGN_OR_RETURN(auto cert, ca->issuer->issue(serial, spki, std::time(nullptr)));
  store::DeviceRecord d;
  d.serial = serial;
  d.product = ctx.product.name;
  d.issuing_ca = ca->record.name;
  d.certificate_der = std::move(cert);
  d.key_mode = mode;
  d.issued_at = now_seconds();
  d.masa_key_id = masa_key_id(ctx.product, serial, d.issued_at);
  return d;
}

Status record(IssueContext& ctx, const store::DeviceRecord& d,
              const std::optional<std::string>& reissue_reason) {
  if (reissue_reason) {
    TRY(ctx.store.reissue_device(d, *reissue_reason));
  } else {
    TRY(ctx.store.add_devices(std::span<const store::DeviceRecord>(&d, 1)));
  }
  return ctx.pool.retire_exhausted(ctx.store);
}

// One device of a batch: its serial and how to get its public key.
struct Job {
  std::string serial;
  std::int64_t line = 0;
  crypto::SecretBytes seed;  // seed batches
  Bytes csr;                 // CSR batches
};

using KeyFn = std::function<Result<Bytes>(const Job&)>;

// A chunk ready to compute: the devices not yet in the store, each with the
// issuing CA that will sign it.
struct PreparedChunk {
  std::vector<Job> jobs;
  std::vector<ActiveCa*> cas;
};

// Reads up to chunk_size jobs, leaves out devices the store already holds
// (an earlier, interrupted run) and assigns CAs round-robin, in input order
// so that runs are reproducible. `more` turns false at the end of input.
template <typename Source>
Result<PreparedChunk> prepare_chunk(IssueContext& ctx, Source& source, std::size_t chunk_size,
                                    BatchReport& report, bool& more) {
  PreparedChunk chunk;
  while (chunk.jobs.size() < chunk_size) {
    ASSIGN_OR_RETURN(auto job, source.next());
    if (!job) {
      more = false;
      break;
    }
    chunk.jobs.push_back(std::move(*job));
  }
  std::vector<std::string> serials;
  serials.reserve(chunk.jobs.size());
  for (const auto& j : chunk.jobs) serials.push_back(j.serial);
  ASSIGN_OR_RETURN(auto existing, ctx.store.existing_serials(serials));
  if (!existing.empty()) {
    const std::unordered_set<std::string> done(existing.begin(), existing.end());
    std::erase_if(chunk.jobs, [&](const Job& j) { return done.contains(j.serial); });
    report.skipped += static_cast<std::int64_t>(done.size());
  }
  for (std::size_t i = 0; i < chunk.jobs.size(); ++i) {
    ASSIGN_OR_RETURN(ActiveCa * ca, ctx.pool.next());
    chunk.cas.push_back(ca);
  }
  return chunk;
}

// Computes public keys and certificates for a chunk on `threads` threads.
Result<std::vector<store::DeviceRecord>> compute_chunk(const IssueContext& ctx,
                                                       PreparedChunk& chunk,
                                                       const KeyFn& public_key, store::KeyMode mode,
                                                       unsigned threads) {
  auto& jobs = chunk.jobs;
  std::vector<Result<store::DeviceRecord>> results(
      jobs.size(), Result<store::DeviceRecord>(fail(ErrorCode::internal, "not run")));
  std::atomic<std::size_t> next{0};
  const std::int64_t issued_at = now_seconds();
  auto work = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      auto spki = public_key(jobs[i]);
      jobs[i].seed.wipe();
      if (!spki) {
        results[i] = fail(spki.error().code, "line " + std::to_string(jobs[i].line) + " (" +
                                                 jobs[i].serial + "): " + spki.error().message);
        continue;
      }
      auto cert =
          chunk.cas[i]->issuer->issue(jobs[i].serial, *spki, static_cast<std::time_t>(issued_at));
      if (!cert) {
        results[i] = fail(cert.error());
        continue;
      }
      store::DeviceRecord d;
      d.serial = jobs[i].serial;
      d.product = ctx.product.name;
      d.issuing_ca = chunk.cas[i]->record.name;
      d.certificate_der = std::move(cert).value();
      d.key_mode = mode;
      d.issued_at = issued_at;
      d.masa_key_id = masa_key_id(ctx.product, d.serial, issued_at);
      results[i] = std::move(d);
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) workers.emplace_back(work);
  for (auto& t : workers) t.join();

  std::vector<store::DeviceRecord> devices;
  devices.reserve(results.size());
  for (auto& r : results) {
    if (!r) return fail(std::move(r).error());
    devices.push_back(std::move(r).value());
  }
  return devices;
}

// Commits chunks in a thread of its own, so that the store's work overlaps
// the next chunk's signatures instead of leaving the other cores idle.
class ChunkWriter {
 public:
  explicit ChunkWriter(IssueContext& ctx) : ctx_(ctx) {}
  ~ChunkWriter() { (void)wait(); }
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  // Waits for the chunk in flight, then starts committing this one.
  Status submit(std::vector<store::DeviceRecord> devices, BatchReport& report) {
    TRY(wait());
    if (devices.empty()) return ok();
    pending_count_ = static_cast<std::int64_t>(devices.size());
    report_ = &report;
    pending_ = std::async(std::launch::async, [this, batch = std::move(devices)] {
      return ctx_.store.add_devices(batch);
    });
    return ok();
  }

  // The chunk in flight is committed (or its error returned); CAs that
  // reached their limits are retired.
  Status wait() {
    if (!pending_.valid()) return ok();
    TRY(pending_.get());
    report_->issued += pending_count_;
    return ctx_.pool.retire_exhausted(ctx_.store);
  }

 private:
  IssueContext& ctx_;
  std::future<Status> pending_;
  std::int64_t pending_count_ = 0;
  BatchReport* report_ = nullptr;
};

// Reads "SERIAL,SEED" lines (factory/seed_file.h). Returns nullopt at the
// end of the input.
class SeedReader {
 public:
  explicit SeedReader(const std::string& path)
      : in_(std::make_unique<std::ifstream>(path)),
        reader_(std::make_unique<SeedFileReader>(*in_, path)) {}
  [[nodiscard]] bool opened() const { return static_cast<bool>(*in_); }

  Result<std::optional<Job>> next() {
    ASSIGN_OR_RETURN(auto seed, reader_->next());
    if (!seed) return std::optional<Job>();
    Job job;
    job.line = seed->line;
    job.serial = std::move(seed->serial);
    job.seed = std::move(seed->seed);
    return std::optional<Job>(std::move(job));
  }

 private:
  // On the heap: the reader refers to the stream, and the pair is moved.
  std::unique_ptr<std::ifstream> in_;
  std::unique_ptr<SeedFileReader> reader_;
};

unsigned thread_count(const BatchOptions& options) {
  if (options.threads > 0) return options.threads;
  return std::max(1U, std::thread::hardware_concurrency());
}

// The common shape of both batches: check every job first (nothing is
// issued if one is bad), then stream them in chunks.
template <typename Source>
Result<BatchReport> run_batch(IssueContext& ctx, const BatchOptions& options,
                              const std::string& label, const std::function<Result<Source>()>& open,
                              const KeyFn& public_key, store::KeyMode mode) {
  BatchReport report;
  {
    ASSIGN_OR_RETURN(auto source, open());
    // Repeated serials inside one input are caught here; 64-bit hashes keep
    // this pass small for millions of devices.
    std::unordered_set<std::uint64_t> seen;
    while (true) {
      ASSIGN_OR_RETURN(auto job, source.next());
      if (!job) break;
      TRY(check_serial(ctx, job->serial));
      if (!seen.insert(std::hash<std::string>{}(job->serial)).second) {
        return fail(ErrorCode::duplicate_member, "line " + std::to_string(job->line) + ": serial " +
                                                     job->serial + " appears twice in the input");
      }
      ++report.total;
    }
  }
  ASSIGN_OR_RETURN(auto source, open());
  Progress progress(label, report.total, options.quiet);
  const unsigned threads = thread_count(options);
  // Three stages overlap: while the workers sign chunk N, this thread reads
  // and prepares chunk N+1 and the writer commits chunk N-1.
  ChunkWriter writer(ctx);
  bool more = true;
  ASSIGN_OR_RETURN(auto current, prepare_chunk(ctx, source, options.chunk_size, report, more));
  while (true) {
    auto computing = std::async(std::launch::async, [&, chunk = std::move(current)]() mutable {
      return compute_chunk(ctx, chunk, public_key, mode, threads);
    });
    const bool stopping = options.stop != nullptr && options.stop->load();
    Result<PreparedChunk> upcoming = PreparedChunk{};
    if (more && !stopping) upcoming = prepare_chunk(ctx, source, options.chunk_size, report, more);
    ASSIGN_OR_RETURN(auto devices, computing.get());
    TRY(upcoming);
    TRY(writer.submit(std::move(devices), report));
    progress.update(report.issued + report.skipped);
    if (stopping && more) {
      report.interrupted = true;
      break;
    }
    if (upcoming->jobs.empty() && !more) break;
    current = std::move(upcoming).value();
  }
  TRY(writer.wait());
  progress.update(report.issued + report.skipped);
  progress.finish();
  return report;
}

// Lists CSR files of a directory in name order.
class CsrReader {
 public:
  static Result<CsrReader> open(const std::string& dir) {
    std::error_code ec;
    CsrReader r;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".csr" || ext == ".pem" || ext == ".der")) {
        r.files_.push_back(e.path());
      }
    }
    if (ec) return fail(ErrorCode::io_error, "cannot read directory " + dir + ": " + ec.message());
    std::sort(r.files_.begin(), r.files_.end());
    return r;
  }
  Result<std::optional<Job>> next() {
    if (index_ >= files_.size()) return std::optional<Job>();
    const auto& path = files_[index_++];
    ASSIGN_OR_RETURN(auto data, read_file(path.string(), std::size_t{64} * 1024));
    auto checked = pki::check_csr(data);
    if (!checked) return fail(checked.error().code, path.string() + ": " + checked.error().message);
    Job job;
    job.line = static_cast<std::int64_t>(index_);
    job.serial = checked->subject_serial.empty() ? path.stem().string() : checked->subject_serial;
    job.csr = std::move(data);
    return std::optional<Job>(std::move(job));
  }

 private:
  std::vector<fs::path> files_;
  std::size_t index_ = 0;
};

}  // namespace

Result<store::DeviceRecord> issue_from_csr(IssueContext& ctx, const std::string& serial,
                                           ByteView csr,
                                           const std::optional<std::string>& reissue_reason) {
  TRY(check_serial(ctx, serial));
  ASSIGN_OR_RETURN(auto checked, pki::check_csr(csr));
  if (!checked.subject_serial.empty() && checked.subject_serial != serial) {
    return fail(ErrorCode::invalid_value,
                "the CSR names serial " + checked.subject_serial + ", not " + serial);
  }
  TRY(check_first_or_reissue(ctx, serial, reissue_reason));
  ASSIGN_OR_RETURN(auto device,
                   sign_device(ctx, serial, checked.subject_public_key_info, store::KeyMode::csr));
  TRY(record(ctx, device, reissue_reason));
  return device;
}

Result<store::DeviceRecord> issue_generated(IssueContext& ctx, const std::string& serial,
                                            const std::string& bundle_path,
                                            const std::string& bundle_passphrase,
                                            const std::optional<std::string>& reissue_reason) {
  TRY(check_serial(ctx, serial));
  if (bundle_passphrase.size() < 8) {
    return fail(ErrorCode::bad_passphrase, "the bundle passphrase must have at least 8 characters");
  }
  if (fs::exists(bundle_path)) {
    return fail(ErrorCode::usage, bundle_path + " exists; refusing to overwrite a key bundle");
  }
  TRY(check_first_or_reissue(ctx, serial, reissue_reason));
  auto key = crypto::generate_key(crypto::KeyType::p256);
  ASSIGN_OR_RETURN(auto device, sign_device(ctx, serial, crypto::public_key_der(key.get()),
                                            store::KeyMode::generated));
  ASSIGN_OR_RETURN(auto cert, crypto::parse_certificate_der(device.certificate_der));
  ASSIGN_OR_RETURN(auto ca, ctx.store.find_ca(device.issuing_ca));
  if (!ca) return fail(ErrorCode::internal, "issuing CA " + device.issuing_ca + " vanished");
  ASSIGN_OR_RETURN(auto ca_cert, crypto::parse_certificate_der(ca->certificate_der));
  crypto::X509StackPtr chain(sk_X509_new_null());
  sk_X509_push(chain.get(), ca_cert.release());
  // The key bag is AES-256-CBC under PBKDF2-HMAC-SHA256; the certificates,
  // public and shown in every TLS handshake, are not encrypted, which spares
  // one derivation each time the bundle is opened. The MAC is HMAC-SHA-256
  // (OpenSSL 3's default) at the same count: a guessed passphrase can be
  // checked against the MAC as well as against the key bag.
  Pkcs12Ptr p12(PKCS12_create(bundle_passphrase.c_str(), serial.c_str(), key.get(), cert.get(),
                              chain.get(), NID_aes_256_cbc, -1, crypto::k_pbkdf2_iterations,
                              crypto::k_pbkdf2_iterations, 0));
  if (!p12) return fail(ErrorCode::internal, "cannot build the PKCS#12 bundle");
  const Bytes bundle = crypto::to_der(p12.get(), i2d_PKCS12);
  if (bundle.empty()) return fail(ErrorCode::internal, "cannot encode the PKCS#12 bundle");
  TRY(write_file_atomic(bundle_path, bundle, 0600));
  // The bundle exists only if the device is recorded, and vice versa.
  if (auto recorded = record(ctx, device, reissue_reason); !recorded) {
    fs::remove(bundle_path);
    return fail(recorded.error());
  }
  return device;
}

Result<BatchReport> run_seed_batch(IssueContext& ctx, const std::string& seeds_path,
                                   const BatchOptions& options) {
  const auto firmware = options.firmware_sha256;
  const KeyFn public_key = [firmware](const Job& job) -> Result<Bytes> {
    crypto::SecretBytes cdi;
    ByteView seed = job.seed.view();
    if (firmware) {
      ASSIGN_OR_RETURN(cdi, crypto::dice_cdi(seed, *firmware));
      seed = cdi.view();
    }
    ASSIGN_OR_RETURN(auto key, crypto::derive_p256_key(seed));
    return crypto::p256_spki_from_point(key.public_point);  // key.private_scalar is wiped here
  };
  const std::function<Result<SeedReader>()> open = [&]() -> Result<SeedReader> {
    SeedReader reader(seeds_path);
    if (!reader.opened()) return fail(ErrorCode::io_error, "cannot open " + seeds_path);
    return reader;
  };
  return run_batch<SeedReader>(ctx, options, "seeds", open, public_key,
                               firmware ? store::KeyMode::dice : store::KeyMode::seed);
}

Result<BatchReport> run_csr_batch(IssueContext& ctx, const std::string& directory,
                                  const BatchOptions& options) {
  const KeyFn public_key = [](const Job& job) -> Result<Bytes> {
    ASSIGN_OR_RETURN(auto checked, pki::check_csr(job.csr));
    return std::move(checked.subject_public_key_info);
  };
  const std::function<Result<CsrReader>()> open = [&] { return CsrReader::open(directory); };
  return run_batch<CsrReader>(ctx, options, "CSRs", open, public_key, store::KeyMode::csr);
}

}  // namespace vouchsafe::factory
