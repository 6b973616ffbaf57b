// A database of its own for each test, in the throw-away PostgreSQL cluster
// that ctest's "postgres" fixture starts (tests/support/postgres-cluster.sh)
// and names in VOUCHSAFE_TEST_POSTGRES_DSN.
#pragma once

#include <string>

#include "core/result.h"

namespace vouchsafe::testing {

inline constexpr const char* k_postgres_dsn_variable = "VOUCHSAFE_TEST_POSTGRES_DSN";

class TestDatabase {
 public:
  // Creates a database named after label (a leftover of an earlier run is
  // dropped first). Fails, saying how to get one, when the DSN is unset.
  static Result<TestDatabase> create(const std::string& label);

  TestDatabase(TestDatabase&& other) noexcept;
  TestDatabase& operator=(TestDatabase&&) = delete;
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  ~TestDatabase();  // drops the database, closing whatever is still connected

  [[nodiscard]] const std::string& name() const { return name_; }
  // The database as the cluster's superuser, and as another role.
  [[nodiscard]] const std::string& dsn() const { return dsn_; }
  [[nodiscard]] std::string dsn_as(const std::string& user) const;

  // Runs SQL (one statement or a script) in the database; the error carries
  // the server's message.
  [[nodiscard]] Status exec(const std::string& sql) const;
  [[nodiscard]] Status exec_as(const std::string& user, const std::string& sql) const;
  // The first column of the first row, as text.
  [[nodiscard]] Result<std::string> query(const std::string& sql) const;

 private:
  TestDatabase(std::string admin_dsn, std::string name, std::string dsn);

  std::string admin_dsn_;  // the database the cluster was created with
  std::string name_;
  std::string dsn_;
};

}  // namespace vouchsafe::testing
