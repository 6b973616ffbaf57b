// The SQLite store's writer for the MASA's hot path: one thread with its
// own connection runs every write queued while the previous commit was
// syncing, in one transaction and one fsync (group commit). Under load it
// lets a group gather for a moment before committing it. Callers are
// told when their own write is durable; none of them blocks a thread while
// the disk syncs, and no write waits behind another thread's open read on
// the store's shared connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/asset_store.h"
#include "store/detail/sqlite_statement.h"

namespace vouchsafe::store::detail {

class SqliteWriter {
 public:
  // A write inside the writer's transaction, on its connection.
  using Write = std::function<Status(StatementCache&)>;

  // A second connection to the store file: its commits hold only its own
  // connection, so the reads of the MASA's workers go on meanwhile (WAL).
  static Result<std::unique_ptr<SqliteWriter>> open(const std::string& path);
  ~SqliteWriter();  // runs what is queued first
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Queues the write; done(result) runs on the writer thread once it is
  // durable or has failed. Writes commit in the order they were queued.
  void submit(Write write, AssetStore::AuditDone done);
  // Queues the write and waits until it is durable.
  Status write(Write write);

 private:
  struct Pending {
    Write write;
    AssetStore::AuditDone done;
    Status result = ok();
  };
  using Clock = std::chrono::steady_clock;
  explicit SqliteWriter(DbPtr db);
  void run();
  void gather(std::unique_lock<std::mutex>& lock);
  void commit(std::deque<Pending>& batch);

  DbPtr db_;
  StatementCache statements_;  // after db_: finalized before the connection closes
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  Clock::time_point first_queued_at_;  // of the oldest write in queue_
  Clock::time_point last_commit_end_;
  bool stopping_ = false;
  std::thread thread_;  // started on the first write
};

}  // namespace vouchsafe::store::detail
