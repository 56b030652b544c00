// The exit status of each library error code (cli/client_options.h): scripts test them, so the
// mapping is part of `bas`'s interface (docs/cli.md).
#include <string>

#include <gtest/gtest.h>

#include "cli/audit/errors.h"
#include "cli/client/errors.h"
#include "cli/client_options.h"
#include "cli/scenario/format.h"

namespace bas::cli {
namespace {

TEST(ExitStatusTest, EachCodeMapsToItsDocumentedStatus) {
  const struct {
    std::string_view code;
    int exit_status;
  } cases[] = {
      {kUsageError, kExitUsage},
      {client::kInvalidInput, kExitUsage},
      {audit::kHeightOutOfRange, kExitUsage},
      {scenario::kMalformedScenario, kExitUsage},
      {scenario::kInvalidGenesis, kExitUsage},
      {"MALFORMED_KEYFILE", kExitUsage},
      {"BAD_PASSPHRASE", kExitUsage},
      {"MALFORMED_HEX", kExitUsage},
      {client::kRefused, kExitRefused},
      {client::kNotFound, kExitNotFound},
      {client::kVerifyFailed, kExitVerifyFailed},
      {audit::kDiscrepancy, kExitDiscrepancy},
      {client::kNetworkError, kExitInternal},
      {client::kApiError, kExitInternal},
      {client::kCommitTimeout, kExitInternal},
      {"IO_ERROR", kExitInternal},
      {"INTERNAL", kExitInternal},
      {"SOMETHING_NEW", kExitInternal},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ExitStatusOf(Error{std::string(c.code), "why"}), c.exit_status) << c.code;
  }
}

}  // namespace
}  // namespace bas::cli
