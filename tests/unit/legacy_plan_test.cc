// Litestream 0.3 restore selection: object names, the catalog, and the
// generation / snapshot / WAL segment choice (as Litestream 0.3.13 makes it).
#include <gtest/gtest.h>

#include "restore/legacy/catalog.h"
#include "restore/legacy/plan.h"

namespace litekeep::restore::legacy {
namespace {

TimePoint At(int seconds) {
  return TimePoint(std::chrono::seconds(1700000000 + seconds));
}

storage::ObjectInfo Snap(const std::string& gen, uint32_t index, int t) {
  return {SnapshotKey(gen, index), 100, At(t), ""};
}
storage::ObjectInfo Wal(const std::string& gen, uint32_t index, int64_t off,
                        int t) {
  return {WalSegmentKey(gen, index, off), 10, At(t), ""};
}

constexpr char kA[] = "aaaaaaaaaaaaaaaa";
constexpr char kB[] = "bbbbbbbbbbbbbbbb";

TEST(LegacyNamesTest, ParsesAndFormats) {
  EXPECT_EQ(SnapshotKey(kA, 0x1f),
            "generations/aaaaaaaaaaaaaaaa/snapshots/0000001f.snapshot.lz4");
  EXPECT_EQ(WalSegmentKey(kA, 2, 0x4080),
            "generations/aaaaaaaaaaaaaaaa/wal/00000002_00004080.wal.lz4");
  EXPECT_EQ(ParseSnapshotName("0000001f.snapshot.lz4"), 0x1fu);
  EXPECT_FALSE(ParseSnapshotName("0000001F.snapshot.lz4"));
  EXPECT_FALSE(ParseSnapshotName("0000001f.snapshot.lz4.tmp"));
  auto w = ParseWalSegmentName("00000002_00004080.wal.lz4");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->first, 2u);
  EXPECT_EQ(w->second, 0x4080);
  EXPECT_FALSE(ParseWalSegmentName("00000002.wal.lz4"));
  EXPECT_FALSE(ParseWalSegmentName("00000002_0000408g.wal.lz4"));
  EXPECT_TRUE(IsGenerationName(kA));
  EXPECT_FALSE(IsGenerationName("AAAAAAAAAAAAAAAA"));
  EXPECT_FALSE(IsGenerationName("aaaa"));
}

TEST(LegacyCatalogTest, IgnoresStrangersAndComputesBounds) {
  Catalog c = BuildCatalog({
      Wal(kA, 0, 4152, 5),
      Snap(kA, 0, 1),
      Wal(kA, 0, 0, 2),
      {"generations/aaaaaaaaaaaaaaaa/wal/00000000_00000000.wal.lz4.tmp", 1,
       At(99), ""},
      {"generations/NOTAGEN/snapshots/00000000.snapshot.lz4", 1, At(99), ""},
      {"ltx/0/0000000000000001-0000000000000001.ltx", 1, At(99), ""},
  });
  ASSERT_EQ(c.generations.size(), 1u);
  const Generation& g = c.generations[0];
  EXPECT_EQ(g.created, At(1));
  EXPECT_EQ(g.updated, At(5));
  ASSERT_EQ(g.wal.size(), 2u);
  EXPECT_EQ(g.wal[0].offset, 0);
  EXPECT_EQ(g.wal[1].offset, 4152);
}

TEST(LegacyPlanTest, NewestGenerationByLastUpdate) {
  // B has the larger name but A was updated last.
  Catalog c = BuildCatalog(
      {Snap(kA, 0, 1), Wal(kA, 0, 0, 50), Snap(kB, 0, 10), Wal(kB, 0, 0, 20)});
  auto p = MakePlan(c, {}, "r");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->generation, kA);
  EXPECT_EQ(p->segments.size(), 1u);
  EXPECT_EQ(p->as_of, At(50));
}

TEST(LegacyPlanTest, TiesGoToTheFirstGenerationByName) {
  Catalog c = BuildCatalog({Snap(kB, 0, 1), Snap(kA, 0, 1)});
  auto p = MakePlan(c, {}, "r");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->generation, kA);
}

TEST(LegacyPlanTest, GenerationFlag) {
  Catalog c =
      BuildCatalog({Snap(kA, 0, 1), Wal(kA, 0, 0, 50), Snap(kB, 0, 10)});
  Options o;
  o.generation = kB;
  auto p = MakePlan(c, o, "r");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->generation, kB);
  EXPECT_TRUE(p->segments.empty());
  o.generation = "cccccccccccccccc";
  p = MakePlan(c, o, "r");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), base::Code::kNotFound);
  EXPECT_NE(p.status().message().find("cccccccccccccccc"), std::string::npos);
}

TEST(LegacyPlanTest,
     TimestampPicksGenerationSnapshotAndStopsAtFirstLaterSegment) {
  Catalog c = BuildCatalog({
      Snap(kA, 0, 0),
      Wal(kA, 0, 0, 1),
      Wal(kA, 0, 100, 3),
      Snap(kA, 1, 4),
      Wal(kA, 1, 0, 5),
      Wal(kA, 1, 100, 7),
      Wal(kA, 2, 0, 9),
      Snap(kB, 0, 20),
      Wal(kB, 0, 0, 21),
  });
  Options o;
  o.timestamp = At(7);
  auto p = MakePlan(c, o, "r");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->generation, kA);
  EXPECT_EQ(p->snapshot.index, 1u);
  ASSERT_EQ(p->segments.size(), 2u);  // index 1: 0 and 100; index 2 is later
  EXPECT_EQ(p->segments.back().offset, 100);
  EXPECT_EQ(p->as_of, At(7));

  o.timestamp = At(2);  // before snapshot 1: snapshot 0 and index 0 up to 0
  p = MakePlan(c, o, "r");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->snapshot.index, 0u);
  ASSERT_EQ(p->segments.size(), 1u);

  o.timestamp = At(-5);  // before everything
  p = MakePlan(c, o, "r");
  EXPECT_EQ(p.status().code(), base::Code::kNotFound);
}

TEST(LegacyPlanTest, TimestampBetweenGenerationsUsesTheEarlierOnesFinalState) {
  // 0.3 finds nothing at t=15 (no generation's range holds it); litekeep
  // takes A's final state, the newest state that existed at t=15.
  Catalog c =
      BuildCatalog({Snap(kA, 0, 0), Wal(kA, 0, 0, 10), Snap(kB, 0, 20)});
  Options o;
  o.timestamp = At(15);
  auto p = MakePlan(c, o, "r");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->generation, kA);
  EXPECT_EQ(p->segments.size(), 1u);
}

TEST(LegacyPlanTest, IndexFlag) {
  Catalog c =
      BuildCatalog({Snap(kA, 0, 0), Wal(kA, 0, 0, 1), Snap(kA, 2, 2),
                    Wal(kA, 1, 0, 2), Wal(kA, 2, 0, 3), Wal(kA, 3, 0, 4)});
  Options o;
  o.index = 1;
  auto p = MakePlan(c, o, "r");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->snapshot.index, 0u);
  ASSERT_EQ(p->segments.size(), 2u);
  EXPECT_EQ(p->last_index(), 1u);
  o.index = 3;
  p = MakePlan(c, o, "r");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->snapshot.index, 2u);   // highest snapshot at or below 3
  EXPECT_EQ(p->segments.size(), 2u);  // indexes 2 and 3
  o.index = 9;
  p = MakePlan(c, o, "r");
  EXPECT_EQ(p.status().code(), base::Code::kNotFound);
  o.timestamp = At(1);
  p = MakePlan(c, o, "r");
  EXPECT_EQ(p.status().code(), base::Code::kInvalidArgument);
}

TEST(LegacyPlanTest, SegmentsBeforeTheSnapshotAreSkipped) {
  Catalog c = BuildCatalog(
      {Snap(kA, 0, 0), Wal(kA, 0, 0, 1), Snap(kA, 1, 5), Wal(kA, 1, 0, 6)});
  auto p = MakePlan(c, {}, "r");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->snapshot.index, 1u);
  ASSERT_EQ(p->segments.size(), 1u);
  EXPECT_EQ(p->segments[0].index, 1u);
}

TEST(LegacyPlanTest, MissingIndexOrFirstSegmentIsCorruptionNamingTheObject) {
  Catalog c =
      BuildCatalog({Snap(kA, 0, 0), Wal(kA, 0, 0, 1), Wal(kA, 2, 0, 3)});
  auto p = MakePlan(c, {}, "r");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), base::Code::kCorrupt);
  EXPECT_NE(p.status().message().find(WalSegmentKey(kA, 1, 0)),
            std::string::npos)
      << p.status().message();

  c = BuildCatalog({Snap(kA, 0, 0), Wal(kA, 0, 0, 1), Wal(kA, 1, 4152, 3)});
  p = MakePlan(c, {}, "r");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(WalSegmentKey(kA, 1, 0)),
            std::string::npos);

  c = BuildCatalog({Snap(kA, 3, 0), Wal(kA, 4, 0, 1)});
  p = MakePlan(c, {}, "r");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(WalSegmentKey(kA, 3, 0)),
            std::string::npos);
}

TEST(LegacyPlanTest, EmptyCatalog) {
  auto p = MakePlan(Catalog{}, {}, "file:///x");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), base::Code::kNotFound);
}

}  // namespace
}  // namespace litekeep::restore::legacy
