#include "deploy/cluster_manager.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "config/config.hpp"

namespace ember::deploy {

cluster_manager_registry::cluster_manager_registry(std::vector<cluster_manager_kind> kinds) : kinds_(std::move(kinds)) {
  for (std::size_t i = 0; i < kinds_.size(); ++i)
    for (std::size_t j = i + 1; j < kinds_.size(); ++j)
      if (kinds_[i].name == kinds_[j].name)
        throw std::invalid_argument("two cluster managers named " + kinds_[i].name);
}

const cluster_manager_kind* cluster_manager_registry::find(std::string_view master) const {
  for (const auto& k : kinds_)
    if (k.can_create && k.can_create(master))
      return &k;
  return nullptr;
}

std::string cluster_manager_registry::unsupported(std::string_view master) const {
  // append() rather than operator+: GCC 12 warns wrongly (-Wrestrict) on the temporaries.
  std::string out = "'";
  out.append(master).append("' is not a master (expected ");
  for (std::size_t i = 0; i < kinds_.size(); ++i)
    out.append(i == 0 ? "" : i + 1 == kinds_.size() ? " or " : ", ").append(kinds_[i].url_forms);
  return out.append(")");
}

std::optional<std::uint32_t> parse_local_master(std::string_view master, std::uint32_t hardware_threads) {
  if (master == "local")
    return 1;
  if (!master.starts_with("local[") || !master.ends_with("]"))
    return std::nullopt;
  auto inner = master.substr(6, master.size() - 7);
  if (inner == "*")
    return std::max(1u, hardware_threads);
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), n);
  if (ec != std::errc{} || end != inner.data() + inner.size() || inner.empty() || n == 0 || n > 4096)
    return std::nullopt;
  return n;
}

std::optional<standalone_master> parse_standalone_master(std::string_view master) {
  constexpr std::string_view scheme = "ember://";
  if (!master.starts_with(scheme))
    return std::nullopt;
  auto rest = master.substr(scheme.size());
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size())
    return std::nullopt;
  unsigned value = 0;
  auto digits = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535)
    return std::nullopt;
  return standalone_master{std::string{rest.substr(0, colon)}, static_cast<std::uint16_t>(value)};
}

cluster_manager_kind local_cluster_manager(std::uint32_t hardware_threads) {
  cluster_manager_kind k;
  k.name = "local";
  k.url_forms = "local, local[N], local[*]";
  k.executors_in_process = true;
  k.can_create = [hardware_threads](std::string_view master) {
    return parse_local_master(master, hardware_threads).has_value();
  };
  k.default_parallelism = [hardware_threads](std::string_view master, const config::config&) {
    return parse_local_master(master, hardware_threads).value_or(1);
  };
  return k;
}

cluster_manager_kind standalone_cluster_manager() {
  cluster_manager_kind k;
  k.name = "standalone";
  k.url_forms = "ember://HOST:PORT";
  k.can_create = [](std::string_view master) { return parse_standalone_master(master).has_value(); };
  // The cores the application asks for (executors x cores each, at least 2), as Spark's
  // standalone backend has once they register.
  k.default_parallelism = [](std::string_view, const config::config& c) {
    auto instances = std::max<std::int64_t>(1, c.get(config::keys::executor_instances));
    return static_cast<std::uint32_t>(std::max<std::int64_t>(2, instances * c.get(config::keys::executor_cores)));
  };
  return k;
}

} // namespace ember::deploy
