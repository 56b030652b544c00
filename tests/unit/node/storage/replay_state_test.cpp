// The audit's replayed state on its scratch RocksDB reads back what governance::MemoryKv does
// for the same write sets (the reference), deletions and prefix scans included, whether the
// entries every tx reads fit its in-memory table or overflow it, and leaves no scratch
// directory behind.
#include "node/storage/replay_state.h"

#include <random>

#include <gtest/gtest.h>

#include "governance/kv.h"
#include "tests/unit/node/temp_dir.h"

namespace bas::node::storage {
namespace {

std::vector<std::pair<std::string, std::string>> ScanAll(const governance::KvReader& kv,
                                                         std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  kv.Scan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  return out;
}

class ReplayStateReadBackTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ReplayStateReadBackTest, ReadsBackLikeMemoryKv) {
  testing::TempDir dir;
  auto state = ReplayState::Create(dir.path(), GetParam());
  ASSERT_TRUE(state.ok()) << state.error().message;
  const std::filesystem::path scratch = (*state)->dir();
  EXPECT_EQ(scratch.parent_path(), dir.path());
  governance::MemoryKv reference;

  std::mt19937 rng(7);
  // "a/" and "mk/" are the tables every tx reads (accounts, membership by key).
  const std::vector<std::string> prefixes = {"a/", "ab/", "b/", "mk/c/", "v/\x01", "v/\x02", "z"};
  for (int block = 0; block < 40; ++block) {
    governance::WriteSet writes;
    for (int i = 0; i < 200; ++i) {
      std::string key = prefixes[rng() % prefixes.size()] + std::to_string(rng() % 300);
      if (rng() % 5 == 0) {
        writes[key] = std::nullopt;
      } else {
        writes[key] = std::string(rng() % 40, static_cast<char>('a' + rng() % 26));
      }
    }
    ASSERT_TRUE((*state)->Apply(writes).ok());
    reference.Apply(writes);
    if (block % 10 == 9) {
      ASSERT_TRUE((*state)->ReleaseMemory().ok());
    }
    for (const std::string& prefix : {std::string("a"), std::string("a/"), std::string("v/"),
                                      std::string("v/\x02"), std::string(""), std::string("y")}) {
      ASSERT_EQ(ScanAll(**state, prefix), ScanAll(reference, prefix)) << prefix;
    }
    for (int i = 0; i < 50; ++i) {
      const std::string key = prefixes[rng() % prefixes.size()] + std::to_string(rng() % 300);
      ASSERT_EQ((*state)->Get(key), reference.Get(key)) << key;
    }
  }
  // A scan stops when its callback says so.
  int seen = 0;
  (*state)->Scan("a/", [&](std::string_view, std::string_view) { return ++seen < 3; });
  EXPECT_EQ(seen, 3);

  state->reset();
  EXPECT_FALSE(std::filesystem::exists(scratch));
}

// The default table holds every hot key of the test; one of 5 entries overflows at once, so
// that most hot keys are read from RocksDB beside the ones kept.
INSTANTIATE_TEST_SUITE_P(HotEntries, ReplayStateReadBackTest, ::testing::Values(size_t{1} << 16, 5),
                         [](const auto& info) { return "Table" + std::to_string(info.param); });

TEST(ReplayStateTest, UnusableScratchDirectoryIsAnError) {
  auto state = ReplayState::Create("/nonexistent/bas-audit-scratch");
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code, "IO_ERROR");
}

}  // namespace
}  // namespace bas::node::storage
