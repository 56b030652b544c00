// The API server over real TCP in front of a real node (RocksDB in a temp dir, the block
// producer running on a test clock): every endpoint of docs/api.md and every error code that a
// client can provoke.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

// GCC 12 with sanitizers reports boost::optional inside Beast's response parser as maybe
// uninitialized (a known false positive); the pragma covers the header's lines.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

#include "bas/v1/chain.pb.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "governance/engine.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/daemon/node.h"
#include "node/rpc/server.h"

namespace bas::node::rpc {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using http::verb;
using nlohmann::json;

constexpr int64_t kGenesisTime = 1'700'000'000;
constexpr char kChainId[] = "bas-test";

// ---- a small blocking HTTP/1.1 client: one connection, keep-alive ----

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  bool keep_alive = false;
  json doc;  // the body as JSON (discarded when it is not)
  std::string ErrorCode() const {
    return doc.contains("error") ? doc["error"]["code"].get<std::string>() : "";
  }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  Reply Send(verb method, const std::string& target, const std::string& body = "",
             const std::string& content_type = "application/json") {
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty() || method == verb::post) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
    }
    req.prepare_payload();
    http::write(socket_, req);
    return Read();
  }
  Reply Get(const std::string& target) { return Send(verb::get, target); }
  Reply PostJson(const std::string& target, const std::string& body) {
    return Send(verb::post, target, body, "application/json");
  }
  Reply PostBinary(const std::string& target, const std::string& body) {
    return Send(verb::post, target, body, "application/x-protobuf");
  }

  void WriteRaw(std::string_view bytes) { net::write(socket_, net::buffer(bytes)); }

  Reply Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    http::read(socket_, buffer_, parser);
    auto res = parser.release();
    Reply r;
    r.status = res.result_int();
    r.body = res.body();
    r.content_type = std::string(res[http::field::content_type]);
    r.keep_alive = res.keep_alive();
    r.doc = json::parse(r.body, nullptr, false);
    return r;
  }

  // True when the server has closed the connection (a read ends without data).
  bool ClosedByServer() {
    beast::error_code ec;
    char byte;
    socket_.read_some(net::buffer(&byte, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// ---- the chain under test ----

class TestClock final : public daemon::Clock {
 public:
  int64_t NowMillis() const override { return now_ms_.load(); }
  void Advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }

 private:
  std::atomic<int64_t> now_ms_{(kGenesisTime + 10) * 1000};
};

crypto::KeyPair NewKey() {
  auto key = crypto::KeyPair::Generate();
  if (!key.ok()) throw std::runtime_error(key.error().message);
  return *key;
}

std::string KeyBytes(const crypto::KeyPair& k) {
  return std::string(reinterpret_cast<const char*>(k.public_key().data()), 32);
}
std::string Hex(const crypto::KeyPair& k) { return crypto::HexEncode(k.public_key()); }

std::string Base64Decode(const json& v) {
  auto bytes = crypto::Base64Decode(v.get<std::string>());
  if (!bytes.ok()) throw std::runtime_error("bad base64 " + v.dump());
  return std::string(bytes->begin(), bytes->end());
}
crypto::Hash32 HashFromHex(const json& v) {
  auto h = crypto::HexDecodeFixed<32>(v.get<std::string>());
  if (!h.ok()) throw std::runtime_error("bad hex " + v.dump());
  return *h;
}
crypto::Hash32 HashFromBase64(const json& v) { return chain::ToHash(Base64Decode(v)); }

template <typename T>
T FromJson(const json& v) {
  T m;
  auto s = google::protobuf::util::JsonStringToMessage(v.dump(), &m);
  if (!s.ok()) throw std::runtime_error("cannot parse " + v.dump());
  return m;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) std::abort();
  return out;
}

// A node on a fresh home: a validator key and three members of bas-dc, one per group.
class TestChain {
 public:
  explicit TestChain(const daemon::MempoolConfig& mempool = {}) : node_key_(NewKey()) {
    std::string tmpl = (fs::temp_directory_path() / "bas-rpc-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    home_ = tmpl;
    for (int i = 0; i < 3; ++i) members_.push_back(NewKey());

    genesis_.set_chain_id(kChainId);
    genesis_.set_genesis_time(kGenesisTime);
    auto* v = genesis_.add_validators();
    v->set_key(KeyBytes(node_key_));
    v->set_power(10);
    v->set_name("test");
    genesis_.mutable_params()->set_idle_block_interval_s(3600);
    auto* c = genesis_.add_coalitions();
    c->set_id("bas-dc");
    c->set_name("Blockchain Assurance & Standardization DC");
    const bas::v1::StakeholderGroup groups[] = {bas::v1::GOVERNMENT, bas::v1::CIVIL_SOCIETY,
                                                bas::v1::ACADEMIA};
    for (int i = 0; i < 3; ++i) {
      auto* m = c->add_members();
      m->set_id("member-" + std::to_string(i));
      m->set_key(KeyBytes(members_[i]));
      m->set_name("Member " + std::to_string(i));
      m->set_organisation("Org " + std::to_string(i));
      m->set_group(groups[i]);
      m->add_roles(bas::v1::MEMBER);
    }

    daemon::NodeConfig config;
    config.home = home_;
    config.mempool = mempool;
    clock_ = std::make_shared<TestClock>();
    auto node = daemon::Node::Open(config, genesis_, node_key_, clock_);
    if (!node.ok()) throw std::runtime_error(node.error().code + ": " + node.error().message);
    node_ = std::move(*node);
    if (!node_->Start().ok()) throw std::runtime_error("node start failed");
  }
  ~TestChain() {
    node_->Stop();
    node_.reset();
    std::error_code ec;
    fs::remove_all(home_, ec);
  }

  std::unique_ptr<ApiServer> Serve(
      daemon::RpcConfig config = {}, unsigned threads = 2,
      std::chrono::milliseconds request_timeout = std::chrono::seconds(30)) {
    config.listen = "127.0.0.1:0";
    auto server = ApiServer::Start(*node_, config, threads, request_timeout);
    if (!server.ok()) throw std::runtime_error(server.error().message);
    return std::move(*server);
  }

  // A signed tx of member i with the given nonce.
  std::string Sign(int member, const bas::v1::TxBody& body_in, uint64_t nonce) const {
    bas::v1::TxBody body = body_in;
    body.set_chain_id(kChainId);
    body.set_nonce(nonce);
    return governance::SignTx(members_[member], body).bytes;
  }
  std::string Propose(int member, uint64_t nonce, const std::string& title) const {
    bas::v1::TxBody body;
    auto* p = body.mutable_propose();
    p->set_coalition("bas-dc");
    p->set_title(title);
    p->set_summary("Adopt the charter.");
    p->add_actions()->mutable_resolution()->set_text("The coalition adopts its charter.");
    return Sign(member, body, nonce);
  }
  std::string Vote(int member, uint64_t nonce, const std::string& proposal_id_hex,
                   bas::v1::VoteChoice choice, const std::string& reason = "") const {
    bas::v1::TxBody body;
    auto* v = body.mutable_vote();
    auto id = crypto::HexDecodeFixed<32>(proposal_id_hex);
    v->set_proposal_id(id.ok() ? std::string(id->begin(), id->end()) : std::string(32, '\0'));
    v->set_choice(choice);
    v->set_reason(reason);
    return Sign(member, body, nonce);
  }

  const crypto::KeyPair& node_key() const { return node_key_; }
  const crypto::KeyPair& member(int i) const { return members_[i]; }
  daemon::Node& node() { return *node_; }
  TestClock& clock() { return *clock_; }

 private:
  fs::path home_;
  crypto::KeyPair node_key_;
  std::vector<crypto::KeyPair> members_;
  bas::v1::Genesis genesis_;
  std::shared_ptr<TestClock> clock_;
  std::unique_ptr<daemon::Node> node_;
};

std::string TxIdHex(const std::string& signed_tx) {
  bas::v1::SignedTx tx;
  tx.ParseFromString(signed_tx);
  crypto::PublicKey signer;
  std::copy(tx.signer().begin(), tx.signer().end(), signer.begin());
  return crypto::HexEncode(governance::TxId(signer, tx.body()));
}

std::string AsJson(const std::string& signed_tx) {
  bas::v1::SignedTx tx;
  tx.ParseFromString(signed_tx);
  return ToJson(tx);
}

class ApiServerTest : public testing::Test {
 protected:
  void SetUp() override { server_ = chain_.Serve(); }
  void TearDown() override { server_->Stop(); }

  HttpClient Client() { return HttpClient(server_->port()); }

  // Polls GET target until pred holds (the producer runs on its own thread).
  json PollUntil(const std::string& target, const std::function<bool(const json&)>& pred) {
    HttpClient client = Client();
    json last;
    for (int i = 0; i < 100; ++i) {
      last = client.Get(target).doc;
      if (pred(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << target << " never reached the expected state: " << last.dump();
    return last;
  }

  TestChain chain_;
  std::unique_ptr<ApiServer> server_;
};

// ---- status, submission, proofs ----

TEST_F(ApiServerTest, StatusDescribesTheChain) {
  const Reply r = Client().Get("/v1/status");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.doc["chain_id"], kChainId);
  EXPECT_EQ(r.doc["height"], 0);
  EXPECT_EQ(r.doc["latest_block_time"], kGenesisTime);
  EXPECT_EQ(r.doc["latest_block_hash"], std::string(64, '0'));
  EXPECT_EQ(r.doc["app_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(r.doc["mempool_size"], 0);
  EXPECT_EQ(r.doc["node_key"], Hex(chain_.node_key()));
}

TEST_F(ApiServerTest, SubmitsBinaryAndJsonAndWaitsForTheCommit) {
  HttpClient client = Client();
  // Binary, waiting for the commit.
  const std::string propose = chain_.Propose(0, 0, "Charter");
  const std::string proposal_id = TxIdHex(propose);
  Reply r = client.PostBinary("/v1/txs?wait=commit", propose);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["tx_id"], proposal_id);
  EXPECT_EQ(r.doc["height"], 1);
  EXPECT_EQ(r.doc["index"], 0);
  EXPECT_EQ(r.doc["result"]["code"], 0);
  EXPECT_TRUE(r.doc["result"]["events"].is_array());

  // JSON, waiting for the commit.
  const std::string vote1 = chain_.Vote(1, 0, proposal_id, bas::v1::YES, "good");
  r = client.PostJson("/v1/txs?wait=commit", AsJson(vote1));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["tx_id"], TxIdHex(vote1));
  EXPECT_EQ(r.doc["height"], 2);

  // JSON without waiting: 202, and a resubmission is idempotent.
  const std::string vote2 = chain_.Vote(2, 0, proposal_id, bas::v1::NO, "too early");
  r = client.PostJson("/v1/txs", AsJson(vote2));
  ASSERT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(r.doc["tx_id"], TxIdHex(vote2));
  EXPECT_EQ(r.doc["code"], "OK");
  r = client.PostBinary("/v1/txs", vote2);
  EXPECT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(r.doc["code"], "OK");
  // Once committed, resubmitting (e.g. after a 504) still reports it rather than BAD_NONCE.
  r = client.PostBinary("/v1/txs?wait=commit", vote2);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["tx_id"], TxIdHex(vote2));
  EXPECT_EQ(client.PostBinary("/v1/txs", vote2).status, 202u);
}

TEST_F(ApiServerTest, TxComesWithProofsThatVerify) {
  HttpClient client = Client();
  // Two txs in one block, so the proofs have a path: nonce 1 is held until nonce 0 arrives,
  // then both are ready at once.
  const std::string a = chain_.Propose(0, 1, "Second");
  const std::string b = chain_.Propose(0, 0, "First");
  Reply batch = client.PostBinary("/v1/txs?batch=1&wait=commit", [&] {
    bas::v1::TxBatch txs;
    txs.add_txs(a);
    txs.add_txs(b);
    return txs.SerializeAsString();
  }());
  ASSERT_EQ(batch.status, 200u) << batch.body;

  for (const std::string& raw : {a, b}) {
    const Reply r = client.Get("/v1/txs/" + TxIdHex(raw));
    ASSERT_EQ(r.status, 200u) << r.body;
    const json& d = r.doc;
    EXPECT_EQ(d["tx_id"], TxIdHex(raw));
    EXPECT_EQ(FromJson<bas::v1::SignedTx>(d["tx"]).SerializeAsString(), raw);
    EXPECT_EQ(d["body"]["propose"]["coalition"], "bas-dc");
    EXPECT_EQ(d["result"]["code"], 0);

    const auto header = FromJson<bas::v1::BlockHeader>(d["header"]);
    EXPECT_EQ(header.height(), d["height"].get<uint64_t>());
    // The tx is a leaf of the header's tx root.
    std::vector<crypto::Hash32> path;
    for (const auto& h : d["tx_proof"]["path"]) path.push_back(HashFromHex(h));
    EXPECT_FALSE(path.empty());
    const uint64_t index = d["index"];
    EXPECT_EQ(d["tx_proof"]["leaf_index"], index);
    EXPECT_TRUE(crypto::VerifyMerkleProof(crypto::MerkleLeafHash(crypto::AsBytes(raw)), index,
                                          d["tx_proof"]["leaf_count"], path,
                                          chain::ToHash(header.tx_root())));
    // A proof for another leaf does not verify.
    EXPECT_FALSE(crypto::VerifyMerkleProof(crypto::MerkleLeafHash(crypto::AsBytes(raw + "x")),
                                           index, d["tx_proof"]["leaf_count"], path,
                                           chain::ToHash(header.tx_root())));
    // The result is a leaf of the results root (one leaf per tx plus the end of the block).
    const auto result = FromJson<bas::v1::TxResult>(d["result"]);
    std::vector<crypto::Hash32> result_path;
    for (const auto& h : d["result_proof"]["path"]) result_path.push_back(HashFromHex(h));
    EXPECT_EQ(d["result_proof"]["leaf_count"], 3);
    EXPECT_TRUE(crypto::VerifyMerkleProof(
        crypto::MerkleLeafHash(crypto::AsBytes(chain::EncodeTxResultLeaf(result))), index,
        d["result_proof"]["leaf_count"], result_path, chain::ToHash(header.results_root())));
    // The header hashes to block_hash, and the commit certifies it by the height's validators.
    const crypto::Hash32 block_hash = HashFromHex(d["block_hash"]);
    EXPECT_EQ(chain::BlockHash(header), block_hash);
    const auto commit = FromJson<bas::v1::Commit>(d["commit"]);
    const auto validators = FromJson<bas::v1::ValidatorSet>(d["validators"]);
    EXPECT_TRUE(chain::VerifyCommit(kChainId, header.height(), chain::HashBytes(block_hash), commit,
                                    validators)
                    .ok());
  }
  EXPECT_EQ(client.Get("/v1/txs/" + std::string(64, 'a')).status, 404u);
}

TEST_F(ApiServerTest, BatchesReportEachTx) {
  HttpClient client = Client();
  const std::string good = chain_.Propose(0, 0, "Batch");
  const std::string replay = chain_.Propose(0, 0, "Same nonce, other body");
  bas::v1::TxBatch txs;
  txs.add_txs(good);
  txs.add_txs("\x0a\x10garbage");
  txs.add_txs(replay);
  Reply r = client.PostBinary("/v1/txs?batch=1&wait=commit", txs.SerializeAsString());
  ASSERT_EQ(r.status, 200u) << r.body;
  const json& results = r.doc["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["tx_id"], TxIdHex(good));
  EXPECT_EQ(results[0]["code"], "OK");
  EXPECT_EQ(results[0]["height"], 1);
  EXPECT_EQ(results[1]["code"], "MALFORMED");
  EXPECT_EQ(results[2]["code"], "BAD_NONCE");  // the same nonce is waiting in the mempool
  EXPECT_EQ(results[2]["tx_id"], TxIdHex(replay));

  // A JSON batch without waiting.
  const std::string next = chain_.Propose(0, 1, "Next");
  const json body = {{"txs", {json::parse(AsJson(next)), json::object({{"body", "!"}})}}};
  r = client.PostJson("/v1/txs", body.dump());
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(r.doc["results"].size(), 2u);
  EXPECT_EQ(r.doc["results"][0]["code"], "OK");
  EXPECT_FALSE(r.doc["results"][0].contains("height"));
  EXPECT_EQ(r.doc["results"][1]["code"], "MALFORMED");
}

// ---- reads ----

TEST_F(ApiServerTest, ProposalsVotesAndDecisions) {
  HttpClient client = Client();
  const std::string propose = chain_.Propose(0, 0, "Charter");
  const std::string id = TxIdHex(propose);
  ASSERT_EQ(client.PostBinary("/v1/txs?wait=commit", propose).status, 200u);
  ASSERT_EQ(client.PostBinary("/v1/txs?wait=commit", chain_.Vote(0, 1, id, bas::v1::YES)).status,
            200u);
  ASSERT_EQ(
      client.PostBinary("/v1/txs?wait=commit", chain_.Vote(1, 0, id, bas::v1::NO, "no")).status,
      200u);
  ASSERT_EQ(client.PostBinary("/v1/txs?wait=commit", chain_.Vote(1, 1, id, bas::v1::YES)).status,
            200u);

  Reply r = client.Get("/v1/proposals/" + id);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["id"], id);
  EXPECT_EQ(r.doc["proposal"]["title"], "Charter");
  EXPECT_EQ(r.doc["proposal"]["status"], "ACTIVE");
  EXPECT_EQ(r.doc["tally"]["yes"], "2");  // 64-bit integers are strings in the proto mapping
  EXPECT_EQ(r.doc["tally"]["eligible"], "3");
  ASSERT_EQ(r.doc["electorate"].size(), 3u);
  EXPECT_EQ(r.doc["electorate"][0], json({{"member_id", "member-0"}, {"group", "GOVERNMENT"}}));
  EXPECT_FALSE(r.doc.contains("decision"));

  r = client.Get("/v1/proposals/" + id + "/votes");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["votes"].size(), 2u);    // the last vote of each member
  EXPECT_EQ(r.doc["history"].size(), 3u);  // every vote
  EXPECT_EQ(r.doc["history"][1]["choice"], "NO");
  EXPECT_EQ(r.doc["history"][1]["reason"], "no");

  EXPECT_EQ(client.Get("/v1/proposals?status=ACTIVE").doc["proposals"].size(), 1u);
  EXPECT_EQ(client.Get("/v1/proposals?coalition=bas-dc").doc["proposals"][0]["id"], id);
  EXPECT_EQ(client.Get("/v1/proposals?coalition=other").doc["proposals"].size(), 0u);
  EXPECT_EQ(client.Get("/v1/proposals?status=PASSED").doc["proposals"].size(), 0u);
  EXPECT_EQ(client.Get("/v1/proposals?status=BOGUS").status, 400u);
  EXPECT_EQ(client.Get("/v1/decisions").doc["decisions"].size(), 0u);

  // Past the voting period the producer closes the proposal by itself.
  chain_.clock().Advance(std::chrono::hours(24 * 30));
  const json decisions = PollUntil("/v1/decisions?coalition=bas-dc", [](const json& d) {
    return d.contains("decisions") && d["decisions"].size() == 1;
  });
  EXPECT_EQ(decisions["decisions"][0]["number"], "1");
  EXPECT_EQ(decisions["decisions"][0]["status"], "PASSED");
  EXPECT_EQ(decisions["decisions"][0]["tally"]["yes"], "2");
  r = client.Get("/v1/proposals/" + id);
  EXPECT_EQ(r.doc["proposal"]["status"], "PASSED");
  EXPECT_EQ(r.doc["decision"]["number"], "1");
  EXPECT_EQ(client.Get("/v1/proposals?status=PASSED").doc["proposals"].size(), 1u);
  r = client.Get("/v1/coalitions/bas-dc");
  ASSERT_EQ(r.doc["resolutions"].size(), 1u);
  EXPECT_EQ(r.doc["resolutions"][0]["text"], "The coalition adopts its charter.");
}

TEST_F(ApiServerTest, GovernanceRecords) {
  HttpClient client = Client();
  Reply r = client.Get("/v1/coalitions");
  ASSERT_EQ(r.status, 200u);
  ASSERT_EQ(r.doc["coalitions"].size(), 1u);
  EXPECT_EQ(r.doc["coalitions"][0]["id"], "bas-dc");
  EXPECT_EQ(r.doc["coalitions"][0]["parent"], "");  // every field printed

  r = client.Get("/v1/coalitions/bas-dc");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["coalition"]["name"], "Blockchain Assurance & Standardization DC");
  EXPECT_TRUE(r.doc["annual_plans"].is_array());
  EXPECT_TRUE(r.doc["igf_sessions"].is_array());
  EXPECT_EQ(r.doc["rules"]["resolution"]["mode"], "MAJORITY");
  EXPECT_EQ(r.doc["rules"]["resolution"]["voting_period_s"], "604800");
  EXPECT_EQ(r.doc["rules"].size(), 12u);  // one per action type

  r = client.Get("/v1/coalitions/bas-dc/members");
  ASSERT_EQ(r.doc["members"].size(), 3u);
  EXPECT_EQ(r.doc["members"][0]["info"]["id"], "member-0");
  EXPECT_EQ(r.doc["members"][0]["info"]["group"], "GOVERNMENT");
  EXPECT_EQ(client.Get("/v1/coalitions/bas-dc/members?all=1").doc["members"].size(), 3u);
  EXPECT_TRUE(client.Get("/v1/coalitions/bas-dc/history").doc["events"].is_array());

  r = client.Get("/v1/validators");
  ASSERT_EQ(r.doc["validators"].size(), 1u);
  EXPECT_EQ(HashFromBase64(r.doc["validators"][0]["key"]), chain_.node_key().public_key());
  EXPECT_TRUE(client.Get("/v1/directory").doc["listings"].is_array());
  EXPECT_TRUE(client.Get("/v1/assessments").doc["assessments"].is_array());
  EXPECT_TRUE(client.Get("/v1/meetings?coalition=bas-dc").doc["meetings"].is_array());
  EXPECT_TRUE(client.Get("/v1/bmm-models").doc["models"].is_array());

  ASSERT_EQ(client.PostBinary("/v1/txs?wait=commit", chain_.Propose(2, 0, "x")).status, 200u);
  r = client.Get("/v1/accounts/" + Hex(chain_.member(2)));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["key"], Hex(chain_.member(2)));
  EXPECT_EQ(r.doc["next_nonce"], 1);
  EXPECT_EQ(r.doc["memberships"],
            json::array({{{"coalition", "bas-dc"}, {"member_id", "member-2"}}}));
  // Upper-case hex is accepted; a key never seen has nonce 0 and no memberships.
  std::string upper = Hex(chain_.member(2));
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(client.Get("/v1/accounts/" + upper).doc["next_nonce"], 1);
  r = client.Get("/v1/accounts/" + std::string(64, '1'));
  EXPECT_EQ(r.doc["next_nonce"], 0);
  EXPECT_TRUE(r.doc["memberships"].empty());
}

TEST_F(ApiServerTest, Blocks) {
  HttpClient client = Client();
  for (uint64_t n = 0; n < 3; ++n) {
    ASSERT_EQ(client.PostBinary("/v1/txs?wait=commit", chain_.Propose(0, n, "P")).status, 200u);
  }
  Reply r = client.Get("/v1/blocks/2");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.doc["block"]["header"]["height"], "2");
  EXPECT_EQ(r.doc["block"]["txs"].size(), 1u);
  EXPECT_EQ(r.doc["results"]["tx_results"].size(), 1u);
  const auto header = FromJson<bas::v1::BlockHeader>(r.doc["block"]["header"]);
  EXPECT_EQ(chain::BlockHash(header), HashFromHex(r.doc["block_hash"]));
  EXPECT_EQ(HashFromBase64(r.doc["commit"]["block_hash"]), HashFromHex(r.doc["block_hash"]));

  r = client.Get("/v1/blocks?from=2&to=3");
  ASSERT_EQ(r.doc["blocks"].size(), 2u);
  EXPECT_EQ(r.doc["blocks"][1]["block"]["header"]["height"], "3");
  EXPECT_EQ(client.Get("/v1/blocks").doc["blocks"].size(), 3u);
  EXPECT_EQ(client.Get("/v1/blocks?from=3&to=1").doc["blocks"].size(), 0u);
  EXPECT_EQ(client.Get("/v1/blocks?to=99").doc["blocks"].size(), 3u);
  EXPECT_EQ(client.Get("/v1/blocks/0").status, 404u);
  EXPECT_EQ(client.Get("/v1/blocks/4").status, 404u);
  EXPECT_EQ(client.Get("/v1/blocks/abc").status, 400u);
  EXPECT_EQ(client.Get("/v1/blocks?from=x").status, 400u);
}

TEST_F(ApiServerTest, MetricsCountRequestsByRoutePattern) {
  HttpClient client = Client();
  client.Get("/v1/status");
  client.Get("/v1/blocks/7");
  client.Get("/v1/blocks/8");
  const Reply r = client.Get("/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type.rfind("text/plain", 0), 0u);
  EXPECT_NE(r.body.find("bas_height"), std::string::npos);
  EXPECT_NE(r.body.find("bas_block_seconds"), std::string::npos);
  EXPECT_NE(r.body.find("bas_api_requests_total{route=\"/v1/blocks/{height}\",status=\"404\"} 2"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("bas_api_requests_total{route=\"/v1/status\",status=\"200\"} 1"),
            std::string::npos);
}

// ---- errors ----

TEST_F(ApiServerTest, ErrorCodes) {
  HttpClient client = Client();
  struct Case {
    verb method;
    std::string target;
    std::string body;
    std::string content_type;
    unsigned status;
    std::string code;
  };
  const std::string zeros(64, '0');
  const std::vector<Case> cases = {
      {verb::post, "/v1/txs", "{not json", "application/json", 400, "MALFORMED"},
      {verb::post, "/v1/txs", "{\"bogus\": 1}", "application/json", 400, "MALFORMED"},
      {verb::post, "/v1/txs", "{\"body\": \"!!\"}", "application/json", 400, "MALFORMED"},
      {verb::post, "/v1/txs", "\x0a\x10garbage", "application/x-protobuf", 400, "MALFORMED"},
      {verb::post, "/v1/txs?batch=1", "\xff\xff", "application/x-protobuf", 400, "MALFORMED"},
      {verb::post, "/v1/txs", "x", "text/plain", 400, "MALFORMED"},
      {verb::post, "/v1/txs?wait=forever", "{}", "application/json", 400, "MALFORMED"},
      {verb::post, "/v1/txs", "", "application/x-protobuf", 422, "INVALID_ARGUMENT"},
      {verb::get, "/v1/txs/xyz", "", "", 400, "MALFORMED"},
      {verb::get, "/v1/proposals/" + zeros.substr(2), "", "", 400, "MALFORMED"},
      {verb::get, "/v1/accounts/nothex", "", "", 400, "MALFORMED"},
      {verb::get, "/v1/%zz", "", "", 400, "MALFORMED"},
      {verb::get, "/v1/nope", "", "", 404, "NOT_FOUND"},
      {verb::get, "/v1/txs/" + zeros, "", "", 404, "NOT_FOUND"},
      {verb::get, "/v1/proposals/" + zeros, "", "", 404, "NOT_FOUND"},
      {verb::get, "/v1/proposals/" + zeros + "/votes", "", "", 404, "NOT_FOUND"},
      {verb::get, "/v1/coalitions/nope", "", "", 404, "NOT_FOUND"},
      {verb::get, "/v1/coalitions/nope/members", "", "", 404, "NOT_FOUND"},
      {verb::delete_, "/v1/status", "", "", 405, "METHOD_NOT_ALLOWED"},
      {verb::post, "/v1/status", "{}", "application/json", 405, "METHOD_NOT_ALLOWED"},
      {verb::put, "/v1/txs", "{}", "application/json", 405, "METHOD_NOT_ALLOWED"},
  };
  // All on one connection: errors keep the connection alive.
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(http::to_string(c.method)) + " " + c.target);
    const Reply r = client.Send(c.method, c.target, c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.ErrorCode(), c.code) << r.body;
    EXPECT_FALSE(r.doc["error"]["message"].get<std::string>().empty());
    EXPECT_TRUE(r.keep_alive);
  }
}

TEST_F(ApiServerTest, RefusesForgedSignaturesAndReplayedNonces) {
  HttpClient client = Client();
  // Signed by member 0, claimed by member 1.
  bas::v1::SignedTx forged;
  forged.ParseFromString(chain_.Propose(0, 0, "Forged"));
  forged.set_signer(KeyBytes(chain_.member(1)));
  Reply r = client.PostBinary("/v1/txs", forged.SerializeAsString());
  EXPECT_EQ(r.status, 422u);
  EXPECT_EQ(r.ErrorCode(), "BAD_SIGNATURE");
  // A flipped signature bit, in JSON.
  bas::v1::SignedTx flipped;
  flipped.ParseFromString(chain_.Propose(0, 0, "Flipped"));
  flipped.mutable_signature()->at(5) ^= 1;
  r = client.PostJson("/v1/txs?wait=commit", ToJson(flipped));
  EXPECT_EQ(r.status, 422u);
  EXPECT_EQ(r.ErrorCode(), "BAD_SIGNATURE");

  ASSERT_EQ(client.PostBinary("/v1/txs?wait=commit", chain_.Propose(0, 0, "Real")).status, 200u);
  r = client.PostBinary("/v1/txs", chain_.Propose(0, 0, "Replayed nonce"));
  EXPECT_EQ(r.status, 422u);
  EXPECT_EQ(r.ErrorCode(), "BAD_NONCE");
}

TEST_F(ApiServerTest, WaitReportsTheBuilderRefusal) {
  // Admission cannot know the proposal; the block builder refuses the vote.
  const std::string vote = chain_.Vote(0, 0, std::string(64, 'a'), bas::v1::YES);
  const Reply r = Client().PostBinary("/v1/txs?wait=commit", vote);
  EXPECT_EQ(r.status, 422u) << r.body;
  EXPECT_EQ(r.ErrorCode(), "UNKNOWN_PROPOSAL");
}

TEST_F(ApiServerTest, WaitTimesOutWith504AndDoesNotBlockOtherClients) {
  daemon::RpcConfig config;
  config.wait_timeout_ms = 1500;
  auto server = chain_.Serve(config, /*threads=*/1);
  // Nonce 5 is held in the mempool for the missing 0..4: it never commits.
  const std::string held = chain_.Propose(0, 5, "Held");
  auto waiting = std::async(std::launch::async, [&] {
    return HttpClient(server->port()).PostBinary("/v1/txs?wait=commit", held);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The only server thread is free while the other request waits.
  const auto started = std::chrono::steady_clock::now();
  HttpClient other(server->port());
  EXPECT_EQ(other.Get("/v1/status").status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  EXPECT_EQ(waiting.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  const Reply r = waiting.get();
  EXPECT_EQ(r.status, 504u) << r.body;
  EXPECT_EQ(r.ErrorCode(), "TIMEOUT");
}

TEST_F(ApiServerTest, OversizedBodiesAndHeadersGet413AndTheServerGoesOn) {
  {
    HttpClient client = Client();
    const Reply r = client.PostBinary("/v1/txs", std::string(10 * 1024 * 1024, 'x'));
    EXPECT_EQ(r.status, 413u);
    EXPECT_EQ(r.ErrorCode(), "TOO_LARGE");
    EXPECT_FALSE(r.keep_alive);
    EXPECT_TRUE(client.ClosedByServer());
  }
  {
    HttpClient client = Client();
    client.WriteRaw("GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                    "\r\n\r\n");
    const Reply r = client.Read();
    EXPECT_EQ(r.status, 413u);
    EXPECT_EQ(r.ErrorCode(), "TOO_LARGE");
  }
  EXPECT_EQ(Client().Get("/v1/status").status, 200u);
}

TEST_F(ApiServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  HttpClient client = Client();
  for (int i = 0; i < 20; ++i) {
    const Reply r = client.Get(i % 2 ? "/v1/status" : "/v1/coalitions");
    ASSERT_EQ(r.status, 200u);
    ASSERT_TRUE(r.keep_alive);
  }
  // A client that asks to close gets its answer, then the close.
  http::request<http::string_body> req(verb::get, "/v1/status", 11);
  req.keep_alive(false);
  std::ostringstream raw;
  raw << req;
  client.WriteRaw(raw.str());
  const Reply r = client.Read();
  EXPECT_EQ(r.status, 200u);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(ApiServerTest, AnswersExpectContinue) {
  HttpClient client = Client();
  const std::string tx = chain_.Propose(0, 0, "Continue");
  client.WriteRaw(
      "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(tx.size()) + "\r\n\r\n");
  EXPECT_EQ(client.Read().status, 100u);
  client.WriteRaw(tx);
  const Reply r = client.Read();
  EXPECT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(r.doc["tx_id"], TxIdHex(tx));
}

TEST_F(ApiServerTest, MalformedHttpClosesTheConnection) {
  HttpClient client = Client();
  client.WriteRaw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(client.ClosedByServer());
  EXPECT_EQ(Client().Get("/v1/status").status, 200u);
}

TEST_F(ApiServerTest, RateLimitPerClientAddress) {
  daemon::RpcConfig config;
  config.rate_limit_per_s = 1;  // burst of 2
  auto server = chain_.Serve(config);
  HttpClient client(server->port());
  EXPECT_EQ(client.Get("/v1/status").status, 200u);
  EXPECT_EQ(client.Get("/v1/status").status, 200u);
  const Reply r = client.Get("/v1/status");
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.ErrorCode(), "RATE_LIMITED");
  EXPECT_TRUE(r.keep_alive);
  // The address, not the connection, is limited.
  EXPECT_EQ(HttpClient(server->port()).Get("/v1/status").status, 429u);
}

TEST_F(ApiServerTest, ConnectionsOverTheLimitGet503) {
  daemon::RpcConfig config;
  config.max_connections = 1;
  auto server = chain_.Serve(config);
  {
    HttpClient first(server->port());
    ASSERT_EQ(first.Get("/v1/status").status, 200u);  // accepted and counted
    HttpClient second(server->port());
    const Reply r = second.Read();
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.ErrorCode(), "TOO_MANY_CONNECTIONS");
    EXPECT_TRUE(second.ClosedByServer());
    EXPECT_EQ(first.Get("/v1/status").status, 200u);
  }
  // Once the first is gone, a new one is served.
  for (int i = 0; i < 50; ++i) {
    HttpClient again(server->port());
    const Reply r = again.Get("/v1/status");
    if (r.status == 200u) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "the connection slot was never freed";
}

TEST_F(ApiServerTest, SlowRequestsAreDropped) {
  auto server = chain_.Serve({}, 2, std::chrono::milliseconds(300));
  HttpClient slow(server->port());
  slow.WriteRaw("GET /v1/status HTTP/1.1\r\nHost: x\r\n");  // never finished
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_TRUE(slow.ClosedByServer());
  EXPECT_EQ(HttpClient(server->port()).Get("/v1/status").status, 200u);
}

TEST(ApiServerMempoolTest, FullMempoolGives503) {
  daemon::MempoolConfig mempool;
  mempool.max_txs = 1;
  TestChain chain(mempool);
  auto server = chain.Serve();
  HttpClient client(server->port());
  // Held for the missing nonces 0..4, so it stays in the pool.
  EXPECT_EQ(client.PostBinary("/v1/txs", chain.Propose(0, 5, "Held")).status, 202u);
  const Reply r = client.PostBinary("/v1/txs", chain.Propose(1, 5, "No room"));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.ErrorCode(), "MEMPOOL_FULL");
}

TEST(ApiServerLifecycleTest, StopClosesConnectionsAndIsIdempotent) {
  TestChain chain;
  auto server = chain.Serve();
  const uint16_t port = server->port();
  EXPECT_NE(port, 0);
  HttpClient client(port);
  ASSERT_EQ(client.Get("/v1/status").status, 200u);
  // A request waiting for a commit does not hold up Stop.
  HttpClient waiting(port);
  waiting.WriteRaw([&] {
    const std::string held = chain.Propose(0, 5, "Held");
    return "POST /v1/txs?wait=commit HTTP/1.1\r\nHost: x\r\nContent-Type: "
           "application/x-protobuf\r\nContent-Length: " +
           std::to_string(held.size()) + "\r\n\r\n" + held;
  }());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto started = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_TRUE(client.ClosedByServer());
  EXPECT_TRUE(waiting.ClosedByServer());
  server->Stop();
  EXPECT_EQ(server->port(), port);
  EXPECT_THROW(HttpClient{port}, boost::system::system_error);
}

TEST(ApiServerLifecycleTest, BindFailureIsAnError) {
  TestChain chain;
  auto first = chain.Serve();
  daemon::RpcConfig config;
  config.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = ApiServer::Start(chain.node(), config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "BIND_FAILED");
  config.listen = "not-an-address";
  EXPECT_FALSE(ApiServer::Start(chain.node(), config).ok());
}

}  // namespace
}  // namespace bas::node::rpc
