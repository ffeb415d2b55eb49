// Component loggers: one per name, shared target, level from ember.log.level, file output.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

#include "config/config.hpp"
#include "config/log.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

using ember_test::slurp;

TEST_CASE("get returns one logger per name, also when called concurrently") {
  std::vector<std::shared_ptr<spdlog::logger>> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&seen, i] { seen[i] = ember::log::get("concurrent_component"); });
  for (auto& t : threads)
    t.join();
  for (auto& l : seen)
    CHECK(l.get() == seen[0].get());
  CHECK(seen[0]->name() == "concurrent_component");
  CHECK(ember::log::get("other_component").get() != seen[0].get());
}

TEST_CASE("level from config, output to a file with time, level and logger name") {
  ember_test::temp_dir tmp{"ember-log"};
  const fs::path& dir = tmp.path;
  auto path = (dir / "executor.log").string();

  auto before = ember::log::get("dag_scheduler");
  ember::log::to_file(path);
  ember::config::load_options o;
  o.use_environment = false;
  o.conf = {"ember.log.level=warn"};
  ember::log::configure(ember::config::load(o));
  CHECK(ember::log::level() == spdlog::level::warn);
  CHECK(before->level() == spdlog::level::warn);
  auto after = ember::log::get("task_scheduler");
  CHECK(after->level() == spdlog::level::warn);

  before->info("hidden info");
  before->warn("stage {} failed", 3);
  after->error("lost executor {}", "e-1");
  ember::log::flush();
  ember::log::to_stderr();
  ember::log::set_level(spdlog::level::info);

  auto text = slurp(path);
  CHECK(text.find("hidden info") == std::string::npos);
  CHECK(text.find("] [warning] [dag_scheduler] stage 3 failed\n") != std::string::npos);
  CHECK(text.find("] [error] [task_scheduler] lost executor e-1\n") != std::string::npos);
  CHECK(text.starts_with("[20"));
}

TEST_CASE("parse_level and a log file that cannot be opened") {
  CHECK(ember::log::parse_level("DEBUG") == spdlog::level::debug);
  CHECK(ember::log::parse_level("off") == spdlog::level::off);
  CHECK_THROWS_AS(ember::log::parse_level("verbose"), std::invalid_argument);
  CHECK_THROWS_AS(ember::log::to_file("/proc/definitely/not/here.log"), std::runtime_error);
}
