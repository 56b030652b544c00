// The `bas` commands that sign transactions: propose, vote, withdraw, apply, assess, meeting,
// rotate-key (each submitted to the node), and `tx sign` / `tx broadcast` for signing on an
// air-gapped machine and submitting elsewhere (docs/cli.md).
//
// A submission: the signer's key from the keystore (--key), the chain id from GET /v1/status,
// the nonce from GET /v1/accounts/{key} (or --nonce), the body built from the flags and
// serialised once, governance::SignTx over those bytes, POST /v1/txs?wait=commit as
// application/x-protobuf. It prints the tx id, the height and the outcome (the API's JSON with
// --json); a refusal (HTTP 422) prints the governance code and message and exits 3.
//
// Each Run* returns the exit status and prints its errors. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bas/v1/tx.pb.h"
#include "cli/client/node_client.h"
#include "cli/client_options.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::cli {

// What building a body may need besides its flags.
struct TxContext {
  const ClientOptions& options;
  std::string chain_id;
  const crypto::KeyPair& signer;
  client::NodeClient* node;  // nullptr offline: ids must then be given in full
};

// Builds a tx body (without chain id and nonce) from the flags parsed into its command.
using TxBuilder = std::function<Result<bas::v1::TxBody>(const TxContext&)>;

struct TxCommandSpec {
  std::string name;         // "vote"
  std::string description;  // for --help
  // Adds the tx's flags and positionals to cmd and returns the builder that reads them once
  // cmd is parsed. cmd must outlive the builder.
  std::function<TxBuilder(CLI::App* cmd)> define;
};

// The tx commands, in the order `bas --help` lists them.
const std::vector<TxCommandSpec>& TxCommandSpecs();

// A builder for the one-flag vote of `tx sign --vote PROPOSAL_ID:CHOICE[:REASON]`.
TxBuilder VoteSpecBuilder(std::string spec);

struct SubmitFlags {
  bool no_wait = false;           // --no-wait: return once the tx is in the mempool
  std::optional<uint64_t> nonce;  // --nonce: instead of the account's next nonce
};

// Signs the built body with options.key_name and submits it (the header comment).
int RunSubmitTx(const ClientOptions& options, const TxBuilder& build, const SubmitFlags& flags);

struct SignFlags {
  bool offline = false;           // --offline: no network at all; needs chain id and nonce
  std::string chain_id;           // --chain-id (fetched from the node when online and absent)
  std::optional<uint64_t> nonce;  // --nonce (fetched from the node when online and absent)
  std::string out;                // --out FILE: the SignedTx bytes as hex, one line
};

// `bas tx sign`: signs without submitting and writes the SignedTx (hex) to flags.out.
int RunSignTx(const ClientOptions& options, const SignFlags& flags, const TxBuilder& build);

// `bas tx broadcast FILE`: submits a SignedTx written by `tx sign` (hex, whitespace ignored;
// "-" reads standard input).
int RunBroadcastTx(const ClientOptions& options, const std::string& file, bool wait);

}  // namespace bas::cli
