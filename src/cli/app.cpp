// Top-level command parsing and error reporting.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"

namespace vouchsafe::cli {

const char* const k_exit_codes_help =
    "\nEXIT CODES:\n"
    "  0  success\n"
    "  1  the input is invalid or was rejected (bad signature, untrusted signer, malformed data)\n"
    "  2  usage or environment error (bad flags, unreadable file, wrong passphrase)\n";

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::io_error:
    case ErrorCode::bad_key:
    case ErrorCode::bad_passphrase:
    case ErrorCode::usage:
    case ErrorCode::internal:
      return k_exit_usage;
    default:
      return k_exit_rejected;
  }
}

int report_error(const Error& error) {
  std::cerr << "vouchsafe: " << error.message << " [" << error_code_name(error.code) << "]\n";
  return exit_code_for(error.code);
}

int run(int argc, char** argv) {
  CLI::App app{
      "Vouchsafe: the device maker's trust service for zero-touch onboarding (BRSKI, RFC 8995).\n"
      "Runs the manufacturer PKI that gives devices their IEEE 802.1AR IDevIDs, the MASA, an\n"
      "owner's registrar and a pledge; signs, verifies and inspects RFC 8366 vouchers in CMS,\n"
      "COSE and JWS form.",
      "vouchsafe"};
  app.footer(std::string("\nEXAMPLES:\n"
                         "  vouchsafe pki init\n"
                         "  vouchsafe idevid issue --csr device.csr --serial WG-SZ1-00000001\n"
                         "  vouchsafe voucher inspect voucher.p7\n"
                         "  vouchsafe voucher verify --anchor masa-ca.pem voucher.p7\n") +
             k_exit_codes_help);
  app.set_version_flag("--version", "vouchsafe 0.1.0");
  app.require_subcommand(1);
  // One store selection for every command, given before or after the verb
  // (a verb with a --store of its own, such as `masa serve`, reads it itself).
  std::string store;
  app.add_option("--store", store,
                 "The asset store: a PostgreSQL DSN (postgresql://...) or a SQLite file; the same "
                 "as $VOUCHSAFE_STORE, and over the home's `store` key. Default: assets.db in "
                 "the home.");
  app.fallthrough();
  Action action;
  add_pki_commands(app, action);
  add_idevid_commands(app, action);
  add_device_commands(app, action);
  add_voucher_commands(app, action);
  add_masa_commands(app, action);
  add_registrar_commands(app, action);
  add_pledge_commands(app, action);
  add_store_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return k_exit_usage;
  }
  if (!store.empty()) ::setenv("VOUCHSAFE_STORE", store.c_str(), 1);
  return action ? action() : k_exit_usage;
}

}  // namespace vouchsafe::cli
