// The vouchsafe command: parses arguments and hands over to a module.
#include "cli/commands.h"

int main(int argc, char** argv) {
  return vouchsafe::cli::run(argc, argv);
}
