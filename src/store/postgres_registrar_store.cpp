// PostgreSQL backend of the registrar's store (placeholder until written).
#include "store/registrar_store.h"

namespace vouchsafe::store {

Result<std::unique_ptr<RegistrarStore>> open_postgres_registrar_store(const std::string& /*dsn*/) {
  return fail(ErrorCode::usage, "the registrar's PostgreSQL store is not available yet");
}

}  // namespace vouchsafe::store
