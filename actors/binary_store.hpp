// Application binaries as actors ship them (FetchBinary/BinaryChunk, docs/cluster.md):
//  - binary_server serves one file to whoever asks for its digest: a driver's own executable to
//    the workers that start its executors, and the binary `ember submit --deploy-mode cluster`
//    hands to the master;
//  - the binary store is the master's keeper of those submitted binaries. It pulls one from the
//    submitter chunk by chunk, verifies its SHA-256 over the bytes it stored, and serves it to the
//    workers that launch the driver (again after a supervised restart elsewhere, or after a
//    master recovery when the store lives in the recovery directory). Beyond
//    ember.master.binaryStore.maxSize the least recently used binaries go, never one a live
//    driver runs.
// Both do blocking file I/O: they are spawned detached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/timespan.hpp>

namespace ember::actors {

/// (store_binary_atom, caf::actor source, std::string digest, std::uint64_t size, std::string keep)
///   -> std::string: the stored file's path, once the whole binary is in the store and verified.
/// `source` answers FetchBinary for the digest; `keep` lists (comma-separated) the digests that
/// eviction must spare. An error names what failed (size, source, digest mismatch, disk).
using store_binary_atom = caf::atom_constant<caf::atom("storebin")>;

/// Serves `path` (whose SHA-256 is `hash`) in chunks of at most max_chunk_size bytes.
caf::behavior binary_server(caf::event_based_actor* self, std::string path, std::string hash,
                            std::size_t max_chunk_size);

struct binary_store_options {
  std::filesystem::path dir;             // created 0700 if missing; adopted files are re-verified
  std::uint64_t max_size = 0;            // ember.master.binaryStore.maxSize
  std::uint32_t max_chunk_size = 1 << 20;  // ember.network.maxChunkSize
  caf::timespan ask_timeout{};           // ember.rpc.askTimeout, per chunk
};

/// What `ember submit --deploy-mode cluster` talks to the master through: an actor that forwards a
/// RequestSubmitDriver to `master` (its answer within `timeout`) and, while that is pending,
/// serves `path` to the master's binary store as binary_server does.
caf::actor spawn_binary_submitter(caf::actor_system& sys, caf::actor master, std::string path, std::string hash,
                                  std::size_t max_chunk_size, caf::timespan timeout);

/// The master's store: store_binary_atom as above, and wire<FetchBinary> -> wire<BinaryChunk>.
/// Throws std::runtime_error when the directory cannot be created.
caf::actor spawn_binary_store(caf::actor_system& sys, binary_store_options options);

} // namespace ember::actors
