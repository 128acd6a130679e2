// The batch-close decision, with the time passed in: no test sleeps.

#include <gtest/gtest.h>

#include "pipeline/batcher.hpp"

namespace patternd::pipeline {
namespace {

using std::chrono::milliseconds;
using Clock = Batcher::Clock;

constexpr milliseconds k_idle_poll{100};

void add(Batcher& b, std::size_t n, Clock::time_point at) {
  for (std::size_t i = 0; i < n; ++i) b.forming().messages.emplace_back();
  b.added(at);
}

TEST(PipelineBatcher, AnEmptyBatchNeverClosesAndPollsForTheIdlePeriod) {
  Batcher b(10, milliseconds(100));
  const auto t0 = Clock::now();
  EXPECT_FALSE(b.should_close(false, true, t0 + std::chrono::hours(1)));
  EXPECT_EQ(b.poll_timeout(true, t0, k_idle_poll), k_idle_poll);
  EXPECT_EQ(b.room(), 10u);
}

TEST(PipelineBatcher, ClosesAtMaxMessages) {
  Batcher b(10, milliseconds(100));
  const auto t0 = Clock::now();
  add(b, 9, t0);
  EXPECT_FALSE(b.should_close(true, false, t0));
  EXPECT_EQ(b.room(), 1u);
  add(b, 1, t0);
  EXPECT_TRUE(b.should_close(true, false, t0)) << "full, though the store is busy and young";
  EXPECT_EQ(b.room(), 0u);
}

TEST(PipelineBatcher, ClosesAtMaxWaitAfterItsFirstMessage) {
  Batcher b(1000, milliseconds(100));
  const auto t0 = Clock::now();
  add(b, 1, t0);
  add(b, 1, t0 + milliseconds(60));  // a later message does not restart the wait
  EXPECT_FALSE(b.should_close(true, false, t0 + milliseconds(99)));
  EXPECT_EQ(b.poll_timeout(false, t0 + milliseconds(70), k_idle_poll), milliseconds(30))
      << "a poll never waits past the deadline";
  EXPECT_TRUE(b.should_close(true, false, t0 + milliseconds(100)));
  EXPECT_EQ(b.poll_timeout(false, t0 + milliseconds(150), k_idle_poll), milliseconds(0));
}

TEST(PipelineBatcher, ClosesEarlyWhenTheStoreIsIdleAndNothingIsWaiting) {
  Batcher b(1000, milliseconds(100));
  const auto t0 = Clock::now();
  add(b, 3, t0);
  EXPECT_EQ(b.poll_timeout(true, t0, k_idle_poll), milliseconds(0))
      << "take what is already here, then write";
  EXPECT_FALSE(b.should_close(true, true, t0)) << "messages are still arriving";
  EXPECT_FALSE(b.should_close(false, false, t0)) << "the store is busy: keep filling";
  EXPECT_TRUE(b.should_close(false, true, t0));
}

TEST(PipelineBatcher, TakingTheBatchStartsANewOneWithItsOwnDeadline) {
  Batcher b(5, milliseconds(100));
  const auto t0 = Clock::now();
  add(b, 5, t0);
  const Batch taken = b.take();
  EXPECT_EQ(taken.messages.size(), 5u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.room(), 5u);
  add(b, 1, t0 + milliseconds(500));
  EXPECT_FALSE(b.should_close(true, false, t0 + milliseconds(550)))
      << "the wait counts from the new batch's first message";
  EXPECT_TRUE(b.should_close(true, false, t0 + milliseconds(600)));
}

}  // namespace
}  // namespace patternd::pipeline
