// RAII for libpq handles: one unique_ptr alias per libpq type, shared by the
// PostgreSQL backend and the tests that administer their throw-away cluster.
#pragma once

#include <libpq-fe.h>

#include <memory>

namespace vouchsafe::store {

struct PgConnFinish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
struct PgConninfoFree {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
struct PgFreemem {
  void operator()(void* p) const { PQfreemem(p); }
};

using PgConnPtr = std::unique_ptr<PGconn, PgConnFinish>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClear>;
using PgConninfoPtr = std::unique_ptr<PQconninfoOption, PgConninfoFree>;
// Strings libpq allocates for the caller (error messages of PQconninfoParse).
using PgCharPtr = std::unique_ptr<char, PgFreemem>;

}  // namespace vouchsafe::store
