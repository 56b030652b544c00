// Benchmarks of bas::crypto. The all-cores verification rate is the signature-verification
// bound that every ledger throughput figure is compared with (docs/performance.md).
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/schnorr.h"

namespace bas::crypto {
namespace {

// Signatures over 32-byte tagged hashes, as the ledger signs transactions: 4,096 distinct
// signatures by 1,024 keys, each verified once per pass. A ledger never verifies the same
// signature twice, and a loop over a few samples is not what the machine can do on a ledger:
// the CPU learns the branches of the scalar multiplication for the samples it sees again and
// again (measured here: 36.6 µs per verification with a lifted key over 64 samples, 37.9 over
// 256, 38.4 over 1,024, 38.6 over 4,096). bas-loadgen's bound likewise verifies 2,000
// distinct votes of its run.
struct SignedSample {
  PublicKey key;
  Hash32 msg;
  Signature sig;
};

std::vector<SignedSample> MakeSamples(int keys, int signatures) {
  std::vector<KeyPair> signers;
  for (int k = 0; k < keys; ++k) signers.push_back(*KeyPair::Generate());
  std::vector<SignedSample> out;
  for (int i = 0; i < signatures; ++i) {
    const KeyPair& key = signers[static_cast<size_t>(i % keys)];
    const Hash32 msg = TaggedHash("bas/tx", "benchmark transaction body " + std::to_string(i));
    out.push_back({key.public_key(), msg, key.Sign(msg)});
  }
  return out;
}

const std::vector<SignedSample>& Samples() {
  static const std::vector<SignedSample> samples = MakeSamples(1024, 4096);
  return samples;
}

// The loop this benchmark used before (64 signatures again and again), for comparison only.
const std::vector<SignedSample>& RepeatedSamples() {
  static const std::vector<SignedSample> samples = MakeSamples(64, 64);
  return samples;
}

int NumCores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

void BM_Bip340Sign(benchmark::State& state) {
  const KeyPair key = *KeyPair::Generate();
  const Hash32 msg = TaggedHash("bas/tx", "benchmark transaction body");
  for (auto _ : state) benchmark::DoNotOptimize(key.Sign(msg));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Bip340Sign);

// Verifies the samples in turn with verify, each thread from its own starting point. With
// several threads Google Benchmark sums the items and, with UseRealTime, divides by wall-clock
// time: items_per_second is then verifications per second over all threads.
template <bool (*verify)(const PublicKey&, ByteSpan, const Signature&)>
void VerifyLoop(benchmark::State& state, const std::vector<SignedSample>& samples) {
  size_t i = static_cast<size_t>(state.thread_index());
  for (auto _ : state) {
    const SignedSample& s = samples[i++ % samples.size()];
    if (!verify(s.key, s.msg, s.sig)) state.SkipWithError("signature did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Bip340Verify(benchmark::State& state) { VerifyLoop<Verify>(state, Samples()); }
BENCHMARK(BM_Bip340Verify)->Name("BM_Bip340Verify/one_thread");
BENCHMARK(BM_Bip340Verify)->Name("BM_Bip340Verify/all_cores")->Threads(NumCores())->UseRealTime();

void BM_Bip340VerifyRepeated64(benchmark::State& state) {
  VerifyLoop<Verify>(state, RepeatedSamples());
}
BENCHMARK(BM_Bip340VerifyRepeated64);

// The same signatures verified with the keys' lifts kept per thread (VerifyWithKeyCache), as
// CheckTx verifies txs: the work left when signers repeat. Not the bound; reported beside it.
void BM_Bip340VerifyCachedKey(benchmark::State& state) {
  VerifyLoop<VerifyWithKeyCache>(state, Samples());
}
BENCHMARK(BM_Bip340VerifyCachedKey)->Name("BM_Bip340VerifyCachedKey/one_thread");
BENCHMARK(BM_Bip340VerifyCachedKey)
    ->Name("BM_Bip340VerifyCachedKey/all_cores")
    ->Threads(NumCores())
    ->UseRealTime();

void BM_TaggedHash200(benchmark::State& state) {
  const std::string msg(200, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(TaggedHash("bas/tx", msg));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(msg.size()));
}
BENCHMARK(BM_TaggedHash200);

void BM_Sha256_200(benchmark::State& state) {
  const std::string msg(200, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Of(msg));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(msg.size()));
}
BENCHMARK(BM_Sha256_200);

// Baseline, not our code path: the one-shot EVP call that hash.cpp avoids (it looks the
// digest up and allocates a context on every call).
void BM_Sha256_200_OneShotEvpBaseline(benchmark::State& state) {
  const std::string msg(200, 'x');
  unsigned char out[32];
  for (auto _ : state) {
    EVP_Digest(msg.data(), msg.size(), out, nullptr, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(msg.size()));
}
BENCHMARK(BM_Sha256_200_OneShotEvpBaseline);

// Leaves of 200 bytes (a typical signed vote), so the figure includes leaf hashing.
void BM_MerkleRoot10k(benchmark::State& state) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 10000; ++i) {
    std::string leaf(200, 'v');
    leaf.replace(0, std::to_string(i).size(), std::to_string(i));
    leaves.push_back(std::move(leaf));
  }
  for (auto _ : state) benchmark::DoNotOptimize(MerkleRoot(leaves));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(leaves.size()));
}
BENCHMARK(BM_MerkleRoot10k)->Unit(benchmark::kMicrosecond);

void BM_MerkleRootFromLeafHashes10k(benchmark::State& state) {
  std::vector<Hash32> hashes;
  for (int i = 0; i < 10000; ++i) hashes.push_back(MerkleLeafHash(AsBytes(std::to_string(i))));
  for (auto _ : state) benchmark::DoNotOptimize(MerkleRootFromLeafHashes(hashes));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(hashes.size()));
}
BENCHMARK(BM_MerkleRootFromLeafHashes10k)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bas::crypto
