#include "cli/client_options.h"

#include <cstdlib>
#include <iostream>

namespace bas::cli {

int ExitStatusOf(const Error& error) {
  const std::string& code = error.code;
  if (code == kUsageError || code == "MALFORMED_KEYFILE" || code == "BAD_PASSPHRASE" ||
      code == "MALFORMED_HEX") {
    return kExitUsage;
  }
  if (code == kRefused) return kExitRefused;
  if (code == kNotFound) return kExitNotFound;
  if (code == kVerifyFailed) return kExitVerifyFailed;
  if (code == kDiscrepancy) return kExitDiscrepancy;
  return kExitInternal;
}

int ReportError(const Error& error) {
  std::cerr << "bas: " << error.message << "\n";
  return ExitStatusOf(error);
}

std::string DefaultKeystoreDir() {
  const char* home = std::getenv("HOME");
  std::string base = home != nullptr && *home != '\0' ? home : ".";
  return base + "/.bas/keys";
}

}  // namespace bas::cli
