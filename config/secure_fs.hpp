// Creating Ember's scratch dirs and files so that another local user can neither read them nor
// plant a directory or symlink in their place (issue 15). Used by everything that writes at run
// time: local dirs, shuffle/spill/cache files, the event log, work dirs, recovery files. No CAF.
#pragma once

#include <fcntl.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ember::config {

class config;

// Flags every private file is opened with (async-signal-safe users, e.g. a forked child, use these
// directly): no symlink is followed at the last component, no descriptor leaks into children.
inline constexpr int private_open_flags = O_NOFOLLOW | O_CLOEXEC;
inline constexpr mode_t private_file_mode = 0600;
inline constexpr mode_t private_dir_mode = 0700;

// mkdir(dir, 0700); the parent must exist. A dir that already exists is reused only if it is a
// real directory (not a symlink) owned by this process's effective user and writable by no one
// else; otherwise std::runtime_error with one line naming the path and its owner.
void make_private_dir(const std::filesystem::path& dir);

// make_private_dir(dir) after creating each missing ancestor with mode 0700. Ancestors that exist
// already are not checked: they are the user's choice (/tmp, a data disk).
void make_private_dirs(const std::filesystem::path& dir);

// open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600); pass O_CREAT | O_EXCL for a file that must be
// new. Throws std::system_error naming the path; a symlink at the path gives "is a symbolic link".
int open_private_file(const std::filesystem::path& path, int flags);

// fsync a file's descriptor / a directory (after a rename into it, so the rename is durable).
// Throw std::system_error naming the path.
void sync_fd(int fd, const std::filesystem::path& path);
void sync_dir(const std::filesystem::path& dir);

// $TMPDIR/ember-$USER (TMPDIR unset or empty: /tmp; the user is getpwuid(geteuid()), else the
// uid): the scratch root when ember.local.dir is not set.
std::filesystem::path default_local_dir();

// A dir setting (ember.local.dir, ember.eventLog.dir) may start with "$TMPDIR/ember-$USER",
// which stands for default_local_dir(). expand_dir_setting only computes the path;
// prepare_dir_setting also creates it: below the default root every dir 0700 and owner-checked
// (it sits in a shared dir), a dir the user named created (ancestors 0700) if missing, else taken
// as it is (the user's choice: a data disk, a shared dir with the sticky bit).
std::filesystem::path expand_dir_setting(std::string_view text);
std::filesystem::path prepare_dir_setting(std::string_view text);

// The scratch roots of ember.local.dir, prepared (local_dirs) or only computed (local_dir_paths,
// to tell where an executor's dirs are). Ember's own dirs below them are make_private_dir'd.
std::vector<std::filesystem::path> local_dirs(const config& conf);
std::vector<std::filesystem::path> local_dir_paths(const config& conf);

} // namespace ember::config
