// The vouchsafe CLI's command tree.
#pragma once

namespace vouchsafe::cli {

// Exit codes written in every --help.
constexpr int k_exit_ok = 0;
constexpr int k_exit_rejected = 1;  // invalid or rejected input
constexpr int k_exit_usage = 2;     // usage or environment error

int run(int argc, char** argv);

}  // namespace vouchsafe::cli
