#include "scheduler/pools.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace ember::scheduler {

const char* to_string(scheduling_mode mode) {
  return mode == scheduling_mode::fair ? "FAIR" : "FIFO";
}

std::optional<scheduling_mode> parse_scheduling_mode(std::string_view text) {
  std::string upper(text);
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "FIFO")
    return scheduling_mode::fifo;
  if (upper == "FAIR")
    return scheduling_mode::fair;
  return std::nullopt;
}

namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    if (i > start)
      out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<uint32_t> parse_u32(std::string_view text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return v;
}

} // namespace

pools_file parse_pools(std::string_view text, std::string_view file_name) {
  pools_file out;
  std::map<std::string, size_t, std::less<>> first_line; // pool name -> line it was declared on
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    auto tokens = split_ws(line);
    if (tokens.empty())
      continue;
    auto fail = [&](const std::string& what) {
      out.pools.clear();
      out.error = std::string(file_name) + ":" + std::to_string(line_no) + ": " + what;
      return out;
    };
    if (tokens[0].find('=') != std::string_view::npos)
      return fail("'" + std::string(tokens[0]) + "' is not a pool name (a line starts with the pool name)");
    pool_spec pool;
    pool.name = std::string(tokens[0]);
    if (auto it = first_line.find(pool.name); it != first_line.end())
      return fail("pool '" + pool.name + "' is declared twice (first on line " + std::to_string(it->second) + ")");
    const std::string where = "pool '" + pool.name + "': ";
    bool seen[3] = {false, false, false};
    for (size_t i = 1; i < tokens.size(); ++i) {
      auto tok = tokens[i];
      auto eq = tok.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == tok.size())
        return fail(where + "'" + std::string(tok) + "' is not key=value (expected schedulingMode=FAIR|FIFO, "
                                                     "weight=N or minShare=N)");
      auto key = tok.substr(0, eq);
      auto value = tok.substr(eq + 1);
      int which = key == "schedulingMode" ? 0 : key == "weight" ? 1 : key == "minShare" ? 2 : -1;
      if (which < 0)
        return fail(where + "unknown setting '" + std::string(key) + "' (expected schedulingMode, weight or minShare)");
      if (seen[which])
        return fail(where + std::string(key) + " is given twice");
      seen[which] = true;
      if (which == 0) {
        auto mode = parse_scheduling_mode(value);
        if (!mode)
          return fail(where + "schedulingMode '" + std::string(value) + "' is not FAIR or FIFO");
        pool.mode = *mode;
      } else if (which == 1) {
        auto v = parse_u32(value);
        if (!v || *v == 0)
          return fail(where + "weight '" + std::string(value) + "' is not a whole number >= 1");
        pool.weight = *v;
      } else {
        auto v = parse_u32(value);
        if (!v)
          return fail(where + "minShare '" + std::string(value) + "' is not a whole number >= 0");
        pool.min_share = *v;
      }
    }
    first_line.emplace(pool.name, line_no);
    out.pools.push_back(std::move(pool));
  }
  return out;
}

pools_file load_pools(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    pools_file out;
    out.error = path + ": cannot read the scheduler allocation file (ember.scheduler.allocation.file): " +
                std::strerror(errno);
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_pools(text.str(), path);
}

bool fair_before(const fair_entity& a, const fair_entity& b) {
  const bool a_needy = a.running_tasks < a.min_share;
  const bool b_needy = b.running_tasks < b.min_share;
  if (a_needy != b_needy)
    return a_needy;
  // Compare running / divisor exactly by cross-multiplying (Spark divides doubles).
  const uint64_t a_div = a_needy ? std::max<uint32_t>(a.min_share, 1) : std::max<uint32_t>(a.weight, 1);
  const uint64_t b_div = b_needy ? std::max<uint32_t>(b.min_share, 1) : std::max<uint32_t>(b.weight, 1);
  const uint64_t lhs = uint64_t{a.running_tasks} * b_div;
  const uint64_t rhs = uint64_t{b.running_tasks} * a_div;
  if (lhs != rhs)
    return lhs < rhs;
  return a.name < b.name;
}

} // namespace ember::scheduler
