// Group commit of queued writes on a dedicated thread and connection.
#include "store/detail/sqlite_writer.h"

#include <future>

namespace vouchsafe::store::detail {
namespace {

// Each commit costs an fsync and a WAL frame for every page it touches,
// however few entries it holds. At a few thousand vouchers a second the
// queue holds one or two writes when a commit ends; waiting up to this long
// for more, only while commits follow each other closely, makes groups of
// several without delaying a write that comes alone.
constexpr auto k_gather_window = std::chrono::microseconds(1500);
// Enough to amortise the sync; more would only hold early writers longer.
constexpr std::size_t k_full_group = 64;

}  // namespace

Result<std::unique_ptr<SqliteWriter>> SqliteWriter::open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return fail(ErrorCode::io_error, "cannot open the asset store " + path + " for writing: " +
                                         (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  // synchronous=FULL: a committed audit entry survives power loss (RFC 8995
  // §5.8: the voucher leaves only after its entry is recorded). Checkpoints
  // run on this connection; a longer WAL lets each copy the audit log's hot
  // pages once for many commits (4096 pages: 16 MiB at most).
  // secure_delete: what this connection deletes (expired session-ticket
  // keys) is overwritten, not left in free pages (Debian's default, not
  // every build's).
  char* message = nullptr;
  if (sqlite3_exec(db.get(),
                   "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                   "PRAGMA wal_autocheckpoint=4096; PRAGMA secure_delete=ON;",
                   nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return fail(ErrorCode::io_error, "configure the writer's connection: " + text);
  }
  sqlite3_busy_timeout(db.get(), 10000);
  return std::unique_ptr<SqliteWriter>(new SqliteWriter(std::move(db)));
}

SqliteWriter::SqliteWriter(DbPtr db) : db_(std::move(db)), statements_(db_.get()) {}

SqliteWriter::~SqliteWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SqliteWriter::submit(Write write, AssetStore::AuditDone done) {
  bool was_empty = false;
  bool full = false;
  {
    std::lock_guard lock(mutex_);
    was_empty = queue_.empty();
    if (was_empty) first_queued_at_ = Clock::now();
    queue_.push_back(Pending{std::move(write), std::move(done)});
    full = queue_.size() == k_full_group;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  // The writer sleeps only on an empty queue or while a group gathers; while
  // it commits, later writes just queue up for the next group (no futex call
  // each).
  if (was_empty || full) wake_.notify_one();
}

Status SqliteWriter::write(Write write) {
  std::promise<Status> durable;
  auto result = durable.get_future();
  submit(std::move(write), [&durable](Status s) { durable.set_value(std::move(s)); });
  return result.get();
}

void SqliteWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to write
    gather(lock);
    std::deque<Pending> batch;
    batch.swap(queue_);
    lock.unlock();
    commit(batch);
    const auto end = Clock::now();
    for (auto& p : batch) p.done(std::move(p.result));
    lock.lock();
    last_commit_end_ = end;
  }
}

void SqliteWriter::gather(std::unique_lock<std::mutex>& lock) {
  if (stopping_ || Clock::now() - last_commit_end_ >= k_gather_window) return;  // not under load
  wake_.wait_until(lock, first_queued_at_ + k_gather_window,
                   [this] { return stopping_ || queue_.size() >= k_full_group; });
}

void SqliteWriter::commit(std::deque<Pending>& batch) {
  const Status together = in_transaction(statements_, [&]() -> Status {
    for (const auto& p : batch) TRY(p.write(statements_));
    return ok();
  });
  if (together) return;  // every result stays ok
  // One write spoiled the batch: give each its own transaction and result.
  for (auto& p : batch) {
    p.result = in_transaction(statements_, [&] { return p.write(statements_); });
  }
}

}  // namespace vouchsafe::store::detail
