// log::on_failure: the completion handler used for every co_spawn of the SDK and the conductor.
#include <acp/sdk/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

namespace {
namespace asio = boost::asio;

TEST(log_on_failure, a_failed_coroutine_is_logged_and_its_fallback_runs) {
  asio::io_context io;
  bool fallback = false;
  testing::internal::CaptureStderr();
  asio::co_spawn(
      io,
      []() -> asio::awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
      },
      acp::log::on_failure("unit", "the test task", [&] { fallback = true; }));
  io.run();
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(fallback);
  EXPECT_NE(err.find("unit: the test task failed: boom"), std::string::npos) << err;
}

TEST(log_on_failure, a_coroutine_that_ends_normally_logs_nothing_and_runs_no_fallback) {
  asio::io_context io;
  bool fallback = false;
  testing::internal::CaptureStderr();
  asio::co_spawn(
      io, []() -> asio::awaitable<void> { co_return; },
      acp::log::on_failure("unit", "the test task", [&] { fallback = true; }));
  io.run();
  EXPECT_TRUE(testing::internal::GetCapturedStderr().empty());
  EXPECT_FALSE(fallback);
}

} // namespace
