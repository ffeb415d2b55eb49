#include "config/fault_injector.hpp"

#include <string>

#include "config/config.hpp"

namespace ember::config {

std::string_view to_string(fault_kind k) {
  switch (k) {
    case fault_kind::status_updates:
      return "StatusUpdates";
    case fault_kind::heartbeat:
      return "Heartbeat";
    case fault_kind::fetch_blocks:
      return "FetchBlocks";
  }
  return "?";
}

fault_settings fault_settings::from(const config& c) {
  using namespace keys;
  fault_settings s;
  s.enabled = c.get(test_faults_enabled);
  if (!s.enabled)
    return s;
  s.seed = static_cast<uint64_t>(c.get(test_faults_seed));
  s.executors = c.get(test_faults_executors);
  // ember.test.faults.<Kind>.{drop,duplicate,delay}, indexed by fault_kind.
  struct rule_keys {
    key<key_type::real> drop, duplicate;
    key<key_type::duration> delay;
  };
  static constexpr std::array<rule_keys, fault_kind_count> rule_keys_of{{
      {test_faults_status_updates_drop, test_faults_status_updates_duplicate, test_faults_status_updates_delay},
      {test_faults_heartbeat_drop, test_faults_heartbeat_duplicate, test_faults_heartbeat_delay},
      {test_faults_fetch_blocks_drop, test_faults_fetch_blocks_duplicate, test_faults_fetch_blocks_delay},
  }};
  for (unsigned k = 0; k < fault_kind_count; ++k) {
    s.rules[k].drop = c.get(rule_keys_of[k].drop);
    s.rules[k].duplicate = c.get(rule_keys_of[k].duplicate);
    s.rules[k].delay = c.get(rule_keys_of[k].delay);
  }
  return s;
}

namespace {

bool listed(std::string_view list, std::string_view id) {
  if (list.empty())
    return true;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == id)
      return true;
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// FNV-1a: a stable hash of the executor id (std::hash may differ between builds).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace

fault_injector::fault_injector(const fault_settings& settings, std::string_view executor_id)
  : enabled_(settings.enabled && listed(settings.executors, executor_id)), rules_(settings.rules) {
  auto base = settings.seed ^ fnv1a(executor_id);
  for (unsigned k = 0; k < fault_kind_count; ++k)
    streams_[k].state = base + 0x9e3779b97f4a7c15ull * (k + 1); // one independent stream per kind
}

uint64_t fault_injector::stream::next() {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double fault_injector::stream::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

fault_decision fault_injector::decide(fault_kind kind) {
  fault_decision d;
  if (!enabled_)
    return d;
  auto k = static_cast<unsigned>(kind);
  const auto& rule = rules_[k];
  std::lock_guard guard{mtx_};
  // Two draws per message whatever the outcome: the n-th message's fate depends on n only.
  auto drop = streams_[k].uniform();
  auto dup = streams_[k].uniform();
  if (drop < rule.drop)
    d.copies = 0;
  else if (dup < rule.duplicate)
    d.copies = 2;
  d.delay = rule.delay;
  return d;
}

} // namespace ember::config
