// The vouchsafe CLI's command tree: `vouchsafe <noun> <verb>`.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/error.h"

namespace vouchsafe::cli {

// Exit codes written in every --help.
constexpr int k_exit_ok = 0;
constexpr int k_exit_rejected = 1;  // invalid or rejected input
constexpr int k_exit_usage = 2;     // usage or environment error

// Help of the --home option every PKI command takes.
constexpr const char* k_home_help = "Data directory (else $VOUCHSAFE_HOME, else ./var/vouchsafe)";

// The EXIT CODES section shared by every command's --help.
extern const char* const k_exit_codes_help;

// Maps an error to the exit code: problems with what was checked are 1,
// problems with how the command was run (files, keys, flags) are 2.
int exit_code_for(ErrorCode code);

// Prints "vouchsafe: <message>" to stderr and returns the exit code.
int report_error(const Error& error);

// Each noun adds its verbs; the action to run is stored in `action`.
using Action = std::function<int()>;
void add_voucher_commands(CLI::App& app, Action& action);
void add_pki_commands(CLI::App& app, Action& action);
void add_idevid_commands(CLI::App& app, Action& action);
void add_device_commands(CLI::App& app, Action& action);
void add_masa_commands(CLI::App& app, Action& action);
void add_registrar_commands(CLI::App& app, Action& action);
void add_pledge_commands(CLI::App& app, Action& action);
void add_store_commands(CLI::App& app, Action& action);

// Brings the asset store at location up to date and says what was done:
// `vouchsafe store migrate` and `vouchsafe masa migrate`.
int migrate_store_command(const std::string& location);

int run(int argc, char** argv);

}  // namespace vouchsafe::cli
