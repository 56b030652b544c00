// StateOverlay's scans: the base's entries merged with the pending writes under the prefix, in
// key order, with deletions hidden, stopping when the callback says so; the same whether or not
// anything is pending under the prefix (then the base is streamed without a copy).
#include "governance/state_overlay.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace bas::governance {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries ScanAll(const KvReader& kv, std::string_view prefix, size_t limit = 1000) {
  Entries out;
  kv.Scan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return out.size() < limit;
  });
  return out;
}

MemoryKv Base() {
  MemoryKv base;
  base.Apply(WriteSet{{"m/a", "1"}, {"m/b", "2"}, {"m/c", "3"}, {"n/a", "x"}, {"o/z", "z"}});
  return base;
}

TEST(StateOverlayTest, ScanWithNothingPendingUnderThePrefixIsTheBase) {
  const MemoryKv base = Base();
  StateOverlay overlay(base);
  overlay.Put("n/b", "pending elsewhere");
  overlay.Put("o/a", "pending elsewhere");
  EXPECT_EQ(ScanAll(overlay, "m/"), (Entries{{"m/a", "1"}, {"m/b", "2"}, {"m/c", "3"}}));
  EXPECT_EQ(ScanAll(overlay, "m/", 2), (Entries{{"m/a", "1"}, {"m/b", "2"}}));
  EXPECT_EQ(ScanAll(overlay, "q/"), Entries{});
}

TEST(StateOverlayTest, ScanMergesPendingWritesAndDeletions) {
  const MemoryKv base = Base();
  StateOverlay overlay(base);
  overlay.Put("m/b", "changed");
  overlay.Delete("m/c");
  overlay.Put("m/d", "new");
  overlay.Put("q/a", "only pending");
  EXPECT_EQ(ScanAll(overlay, "m/"), (Entries{{"m/a", "1"}, {"m/b", "changed"}, {"m/d", "new"}}));
  EXPECT_EQ(ScanAll(overlay, "m/", 2), (Entries{{"m/a", "1"}, {"m/b", "changed"}}));
  EXPECT_EQ(ScanAll(overlay, "q/"), (Entries{{"q/a", "only pending"}}));
  EXPECT_EQ(ScanAll(overlay, "n/"), (Entries{{"n/a", "x"}}));
  // A rolled-back write is no longer pending: the base shows again.
  overlay.Begin();
  overlay.Put("n/b", "rolled back");
  EXPECT_EQ(ScanAll(overlay, "n/"), (Entries{{"n/a", "x"}, {"n/b", "rolled back"}}));
  overlay.Rollback();
  EXPECT_EQ(ScanAll(overlay, "n/"), (Entries{{"n/a", "x"}}));
}

}  // namespace
}  // namespace bas::governance
