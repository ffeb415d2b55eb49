// `ember chaos`: runs fault-injection scenarios (tests/fault/*.json) against clusters it starts
// itself and judges each run (the logic lives in chaos/; docs/chaos.md describes the scenarios).
#pragma once

#include <string>
#include <vector>

namespace ember::cli {

// `ember chaos [--report FILE.json] [--seed N] [--keep] [--bin-dir DIR] [--temp-dir DIR] SCENARIO.json...`
// Exit codes: 0 every scenario passed, 1 at least one failed, 2 usage or a bad scenario file.
int run_chaos(const std::vector<std::string>& args);

}  // namespace ember::cli
