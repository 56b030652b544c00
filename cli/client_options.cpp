#include "cli/client_options.h"

#include <cstdlib>
#include <iostream>

#include "cli/audit/errors.h"
#include "cli/client/errors.h"
#include "cli/scenario/format.h"

namespace bas::cli {

int ExitStatusOf(const Error& error) {
  const std::string& code = error.code;
  if (code == kUsageError || code == client::kInvalidInput || code == audit::kHeightOutOfRange ||
      code == scenario::kMalformedScenario || code == scenario::kInvalidGenesis ||
      code == "MALFORMED_KEYFILE" || code == "BAD_PASSPHRASE" || code == "MALFORMED_HEX") {
    return kExitUsage;
  }
  if (code == client::kRefused) return kExitRefused;
  if (code == client::kNotFound) return kExitNotFound;
  if (code == client::kVerifyFailed) return kExitVerifyFailed;
  if (code == audit::kDiscrepancy) return kExitDiscrepancy;
  return kExitInternal;
}

Error WithFlag(std::string_view flag, Error error) {
  error.message = std::string(flag) + ": " + error.message;
  return error;
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
