// Moving a home's embedded asset store into the PostgreSQL store that
// several MASA instances and the factory then share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace vouchsafe::store {

struct CopiedTable {
  std::string name;
  std::int64_t rows = 0;
};

// Copies every row of the SQLite store at sqlite_path (CAs, devices and
// their events, ownership, the audit log, MASA signers, session-ticket keys)
// into the PostgreSQL store at dsn, in one transaction, with the rows' ids.
// Both schemas are brought up to date first. Refuses a target that holds
// any row, a source table this build does not know how to copy, and tables
// whose columns differ between the two; commits only when every table's
// row count in the target equals the source's. Nothing is written to the
// source: stop the services using it first, or rows they add are not copied.
Result<std::vector<CopiedTable>> copy_sqlite_to_postgres(const std::string& sqlite_path,
                                                         const std::string& dsn);

}  // namespace vouchsafe::store
