// bas-loadgen: a load generator for `scripts/bench.sh node`. It writes a genesis whose members
// it holds the keys of, then feeds a running node signed votes over keep-alive connections in
// batches, and reports committed tx/s and submit-to-commit latency, next to the
// signature-verification bound of the same machine measured in the same run.
//
//   bas-loadgen genesis --members N --validator KEYHEX... --out FILE [--voting-period S]
//   bas-loadgen run --node URL... --members N --txs T [--batch B] [--connections C]
//
// --validator may be repeated (each of power 10: `scripts/bench.sh localnet`), and so may
// --node: connection c then submits to node c mod the number of nodes.
//
// Member i's key is tagged_hash("bas/bench-key", "m-<i>"): public test keys, never for a real
// chain.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bas/v1/chain.pb.h"
#include "cli/client/http_client.h"
#include "crypto/encoding.h"
#include "governance/engine.h"
#include "proto/json.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr bas::v1::StakeholderGroup kGroups[] = {bas::v1::GOVERNMENT, bas::v1::PRIVATE_SECTOR,
                                                 bas::v1::CIVIL_SOCIETY,
                                                 bas::v1::TECHNICAL_COMMUNITY, bas::v1::ACADEMIA};

bas::crypto::KeyPair MemberKey(int i) {
  return *bas::crypto::KeyPair::FromSecret(
      bas::crypto::TaggedHash("bas/bench-key", "m-" + std::to_string(i)));
}

std::string KeyBytes(const bas::crypto::KeyPair& k) {
  return std::string(reinterpret_cast<const char*>(k.public_key().data()), 32);
}

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "bas-loadgen: " << why << "\n";
  std::exit(1);
}

int WriteGenesis(int members, const std::vector<std::string>& validator_hexes,
                 const std::string& out, uint64_t voting_period) {
  bas::v1::Genesis g;
  g.set_chain_id("bas-bench");
  g.set_genesis_time(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  for (const auto& hex : validator_hexes) {
    auto validator = bas::crypto::HexDecodeFixed<32>(hex);
    if (!validator.ok()) Die("--validator " + hex + ": " + validator.error().message);
    auto* v = g.add_validators();
    v->set_key(std::string(validator->begin(), validator->end()));
    v->set_power(10);
  }
  g.mutable_params()->set_idle_block_interval_s(60);
  g.mutable_params()->set_max_block_txs(5000);
  auto* c = g.add_coalitions();
  c->set_id("bas-dc");
  c->set_name("bench");
  for (int i = 0; i < members; ++i) {
    auto* m = c->add_members();
    m->set_id("m-" + std::to_string(i));
    m->set_key(KeyBytes(MemberKey(i)));
    m->set_group(kGroups[i % 5]);
    m->add_roles(bas::v1::MEMBER);
  }
  auto* rule = c->add_rules();
  rule->set_action_type("default");
  rule->mutable_rule()->set_voting_period_s(voting_period);
  if (bas::Status s = bas::proto::WriteGenesis(out, g); !s.ok()) Die(s.message());
  return 0;
}

// POSTs a TxBatch and waits for the commit; the parsed {"results": [...]}.
nlohmann::json PostBatch(bas::client::HttpClient& http, const std::vector<std::string>& txs,
                         size_t from, size_t to) {
  bas::v1::TxBatch batch;
  for (size_t i = from; i < to; ++i) batch.add_txs(txs[i]);
  auto r =
      http.Post("/v1/txs?batch=1&wait=commit", batch.SerializeAsString(), "application/x-protobuf");
  if (!r.ok()) Die("POST /v1/txs: " + r.error().message);
  if (r->status != 200) Die("POST /v1/txs: HTTP " + std::to_string(r->status) + " " + r->body);
  return nlohmann::json::parse(r->body);
}

// Signature verifications per second on every core for about `seconds`: the bound.
double VerifyRate(const std::vector<std::string>& txs, double seconds) {
  std::vector<bas::v1::SignedTx> parsed(std::min<size_t>(txs.size(), 2000));
  for (size_t i = 0; i < parsed.size(); ++i) parsed[i].ParseFromString(txs[i]);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      uint64_t n = 0;
      for (size_t i = t; !stop.load(std::memory_order_relaxed); i = (i + threads) % parsed.size()) {
        const auto& tx = parsed[i];
        bas::crypto::PublicKey key;
        bas::crypto::Signature sig;
        std::copy(tx.signer().begin(), tx.signer().end(), key.begin());
        std::copy(tx.signature().begin(), tx.signature().end(), sig.begin());
        if (!bas::crypto::Verify(key, bas::governance::TxSigHash(tx.body()), sig)) Die("verify");
        ++n;
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  return done / std::chrono::duration<double>(Clock::now() - start).count();
}

// GET /v1/status of a node; dies if it does not answer 200.
nlohmann::json Status(bas::client::HttpClient& http) {
  auto status = http.Get("/v1/status");
  if (!status.ok() || status->status != 200) Die("GET /v1/status failed");
  return nlohmann::json::parse(status->body);
}

int Run(const std::vector<std::string>& nodes, int members, size_t total, size_t batch_size,
        int connections) {
  std::vector<bas::client::HttpUrl> urls;
  for (const auto& node : nodes) {
    auto url = bas::client::ParseHttpUrl(node);
    if (!url.ok()) Die(url.error().message);
    urls.push_back(*url);
  }
  bas::client::HttpClient http(urls.front());
  const std::string chain_id = Status(http)["chain_id"];

  // One resolution per `members` votes; member 0 proposes them all.
  const size_t proposals = (total + members - 1) / members;
  const auto proposer = MemberKey(0);
  std::vector<std::string> propose_txs;
  std::vector<std::string> proposal_ids;
  for (size_t p = 0; p < proposals; ++p) {
    bas::v1::TxBody body;
    body.set_chain_id(chain_id);
    body.set_nonce(p);
    body.mutable_propose()->set_coalition("bas-dc");
    body.mutable_propose()->set_title("Bench resolution " + std::to_string(p));
    body.mutable_propose()->add_actions()->mutable_resolution()->set_text("Resolved.");
    propose_txs.push_back(bas::governance::SignTx(proposer, body).bytes);
    auto checked = bas::governance::CheckTx(propose_txs.back(), chain_id);
    proposal_ids.push_back(std::string(reinterpret_cast<const char*>(checked.tx.tx_id.data()), 32));
  }
  // In runs shorter than the mempool's nonce gap (64), each committed before the next.
  uint64_t proposals_height = 0;
  for (size_t i = 0; i < propose_txs.size(); i += 50) {
    nlohmann::json r = PostBatch(http, propose_txs, i, std::min(i + 50, propose_txs.size()));
    for (const auto& item : r["results"]) {
      if (item.value("code", "") != "OK" || !item.contains("height")) {
        Die("a proposal was not committed: " + item.dump());
      }
      proposals_height = std::max(proposals_height, item["height"].get<uint64_t>());
    }
  }
  // Every node must know the proposals before it is sent votes on them.
  for (size_t n = 1; n < urls.size(); ++n) {
    bas::client::HttpClient other(urls[n]);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Status(other)["height"].get<uint64_t>() < proposals_height) {
      if (Clock::now() > deadline) Die(nodes[n] + " did not reach the proposals' height");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Every vote signed before the clock starts: member i votes on proposal p with nonce p
  // (member 0 after its proposals).
  std::cerr << "signing " << total << " votes\n";
  std::vector<std::string> votes(total);
  {
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
      pool.emplace_back([&] {
        std::vector<bas::crypto::KeyPair> keys;
        for (size_t k = next++; k < total; k = next++) {
          const size_t p = k / members;
          const int m = static_cast<int>(k % members);
          bas::v1::TxBody body;
          body.set_chain_id(chain_id);
          body.set_nonce(p + (m == 0 ? proposals : 0));
          body.mutable_vote()->set_proposal_id(proposal_ids[p]);
          body.mutable_vote()->set_choice(m % 4 == 0 ? bas::v1::NO : bas::v1::YES);
          votes[k] = bas::governance::SignTx(MemberKey(m), body).bytes;
        }
      });
    }
    for (auto& t : pool) t.join();
  }

  const double bound = VerifyRate(votes, 3.0);

  std::cerr << "submitting over " << connections << " connections in batches of " << batch_size
            << "\n";
  std::atomic<size_t> next_batch{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(total);
  size_t committed = 0, refused = 0;
  const auto start = Clock::now();
  Clock::time_point last_commit = start;
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&, c] {
      bas::client::HttpClient conn(urls[c % urls.size()]);
      for (size_t b = next_batch++; b * batch_size < total; b = next_batch++) {
        const size_t from = b * batch_size, to = std::min(total, from + batch_size);
        const auto sent = Clock::now();
        nlohmann::json r = PostBatch(conn, votes, from, to);
        const auto done = Clock::now();
        const double ms = std::chrono::duration<double, std::milli>(done - sent).count();
        std::lock_guard lock(mu);
        for (const auto& item : r["results"]) {
          if (item.value("code", "") == "OK" && item.contains("height")) {
            ++committed;
            latencies_ms.push_back(ms);
          } else if (++refused <= 5) {
            std::cerr << "refused: " << item.dump() << "\n";
          }
        }
        last_commit = std::max(last_commit, done);
      }
    });
  }
  for (auto& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(last_commit - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double q) {
    return latencies_ms.empty() ? 0.0
                                : latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))];
  };
  const double tps = committed / seconds;
  std::cout << "committed_txs " << committed << "\nrefused_txs " << refused << "\nseconds "
            << seconds << "\ncommitted_tx_per_s " << tps << "\nlatency_p50_ms " << pct(0.5)
            << "\nlatency_p99_ms " << pct(0.99) << "\nverify_bound_per_s " << bound
            << "\nratio_to_bound " << tps / bound << "\n";
  return refused == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bas-loadgen: signed-vote load for a BAS Ledger node"};
  app.require_subcommand(1);
  int members = 1000;
  std::string out;
  std::vector<std::string> validators, nodes;
  uint64_t voting_period = 3600;
  size_t txs = 50000, batch = 250;
  int connections = 8;
  int rc = 0;
  auto* gen = app.add_subcommand("genesis", "Write a genesis with N bench members");
  gen->add_option("--members", members)->required();
  gen->add_option("--validator", validators, "A validator's node key, hex (repeatable)")
      ->required();
  gen->add_option("--out", out)->required();
  gen->add_option("--voting-period", voting_period);
  gen->callback([&] { rc = WriteGenesis(members, validators, out, voting_period); });
  auto* run = app.add_subcommand("run", "Feed a node signed votes and measure");
  run->add_option("--node", nodes, "A node's API URL (repeatable: connections take turns)")
      ->default_str("http://127.0.0.1:26657");
  run->add_option("--members", members)->required();
  run->add_option("--txs", txs);
  run->add_option("--batch", batch);
  run->add_option("--connections", connections);
  run->callback([&] {
    if (nodes.empty()) nodes.push_back("http://127.0.0.1:26657");
    rc = Run(nodes, members, txs, batch, connections);
  });
  CLI11_PARSE(app, argc, argv);
  return rc;
}
