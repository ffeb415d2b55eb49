// The master's recovery log (ember.deploy.recoveryMode=FILESYSTEM), as Spark's
// FileSystemPersistenceEngine: one JSON file per registered worker, application and cluster-mode
// driver in ember.deploy.recoveryDirectory, written atomically (temp file + rename) and removed when
// the entity goes. master_logic calls the engine; a restarted master reads everything back.
//
//   <dir>/worker_<id>   {"id","host","port","cores","memory"}
//   <dir>/app_<id>      {"id","submitTimeMs","nextExecutorId","executorLimit"?,"desc":{...}}
//   <dir>/driver_<id>   {"id","state","restarts","desc":{...}}
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "deploy/master_logic.hpp"

namespace ember::deploy {

/// Writes into <dir> (created if missing). Every write replaces the entity's file atomically; a
/// failing write throws std::runtime_error naming the file.
class filesystem_persistence final : public persistence_engine {
public:
  explicit filesystem_persistence(std::filesystem::path dir);

  /// The master's store of submitted binaries (actors/binary_store.hpp) lives in this subdirectory
  /// of the recovery directory, so that recovered drivers can start again; read() passes it by.
  static constexpr const char* binaries_subdir = "binaries";

  void persist_worker(const worker_description& w) override;
  void unpersist_worker(const std::string& worker_id) override;
  void persist_app(const app_record& a) override;
  void unpersist_app(const std::string& app_id) override;
  void persist_driver(const driver_record& d) override;
  void unpersist_driver(const std::string& driver_id) override;

  /// Reads every file of the directory back (leftover temp files are removed).
  recovered_state read() const;

  const std::filesystem::path& dir() const { return dir_; }

private:
  void write(const std::string& name, const std::string& text);
  void remove(const std::string& name);
  void sync_dir_or_fail(const std::filesystem::path& file);

  std::filesystem::path dir_;
};

} // namespace ember::deploy
