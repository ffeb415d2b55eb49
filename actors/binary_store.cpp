#include "actors/binary_store.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/message_handler.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/conversions.hpp"
#include "actors/deploy_conversions.hpp"
#include "config/log.hpp"
#include "config/registry.hpp"
#include "deploy/binary_cache.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/wire.hpp"

namespace ember::actors {

namespace {

caf::error failure(std::string text) { return caf::make_error(caf::sec::runtime_error, std::move(text)); }

// One BinaryChunk of `path` as a FetchBinary asks for it.
caf::result<wire<proto::BinaryChunk>> serve_chunk(const std::filesystem::path& path, const std::string& hash,
                                                  proto::FetchBinary::Reader r, std::size_t max_chunk_size) {
  auto limit = static_cast<std::uint32_t>(
      std::min<std::size_t>(std::max<std::uint32_t>(r.getMaxChunkSize(), 4096), max_chunk_size));
  deploy::binary_chunk chunk;
  try {
    chunk = deploy::read_chunk(path, r.getOffset(), limit);
  } catch (const std::exception& e) {
    return failure(std::string{"cannot read binary "} + hash + ": " + e.what());
  }
  return make_wire<proto::BinaryChunk>([&](proto::BinaryChunk::Builder b) {
    b.setContentHash(hash);
    b.setOffset(chunk.offset);
    b.setTotalSize(chunk.total_size);
    b.setData(bytes(chunk.data));
    b.setChecksum(chunk.checksum);
    b.setLast(chunk.last);
  });
}

std::set<std::string> split_digests(const std::string& text) {
  std::set<std::string> r;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      r.insert(text.substr(start, end - start));
    start = end + 1;
  }
  return r;
}

struct upload {
  std::unique_ptr<deploy::binary_assembly> assembly;
  caf::actor source;
  std::set<std::string> keep;
  std::vector<caf::typed_response_promise<std::string>> waiting;  // submitters of the same binary
};

struct binary_store_state {
  binary_store_options options;
  std::shared_ptr<deploy::binary_cache> cache;  // made by spawn_binary_store
  std::map<std::string, upload> uploads;  // by digest
  std::shared_ptr<spdlog::logger> log = ember::log::get("master");
  static inline const char* name = "ember.binary_store";
};

using binary_store_actor = caf::stateful_actor<binary_store_state>;

void end_upload(binary_store_actor* self, const std::string& hash, const std::string& path, const std::string& error) {
  auto it = self->state.uploads.find(hash);
  if (it == self->state.uploads.end())
    return;
  auto waiting = std::move(it->second.waiting);
  self->state.uploads.erase(it);  // the assembly's destructor removes a partial file
  for (auto& rp : waiting) {
    if (error.empty())
      rp.deliver(path);
    else
      rp.deliver(failure(error));
  }
}

void pull_next(binary_store_actor* self, const std::string& hash) {
  auto& u = self->state.uploads.at(hash);
  auto& o = self->state.options;
  auto msg = make_wire<proto::FetchBinary>([&](proto::FetchBinary::Builder b) {
    b.setContentHash(hash);
    b.setOffset(u.assembly->next_offset());
    b.setMaxChunkSize(o.max_chunk_size);
  });
  self->request(u.source, o.ask_timeout, msg)
      .then(
          [self, hash](const wire<proto::BinaryChunk>& msg) {
            auto& st = self->state;
            auto it = st.uploads.find(hash);
            if (it == st.uploads.end())
              return;
            auto r = msg.reader();
            if (r.getTotalSize() > st.options.max_size) {
              end_upload(self, hash, "",
                         "the binary is " + config::format_size(static_cast<std::int64_t>(r.getTotalSize()))
                             + ", more than ember.master.binaryStore.maxSize ("
                             + config::format_size(static_cast<std::int64_t>(st.options.max_size)) + ")");
              return;
            }
            auto c = from_proto(r);
            if (str(r.getContentHash()) != hash) {
              end_upload(self, hash, "", "the submitter sent a chunk of " + str(r.getContentHash()) + " for " + hash);
              return;
            }
            if (auto err = it->second.assembly->add(c)) {
              end_upload(self, hash, "", "receiving the binary failed: " + *err);
              return;
            }
            if (!it->second.assembly->complete()) {
              pull_next(self, hash);
              return;
            }
            std::filesystem::path path;
            try {
              path = it->second.assembly->finish();
            } catch (const std::exception& e) {
              end_upload(self, hash, "", std::string{"receiving the binary failed: "} + e.what());
              return;
            }
            auto keep = it->second.keep;
            keep.insert(hash);
            for (auto& gone : st.cache->evict(keep))
              st.log->info("binary store: removed {} (ember.master.binaryStore.maxSize)", gone);
            st.log->info("binary store: stored {} ({} bytes)", hash, c.total_size);
            end_upload(self, hash, path.string(), "");
          },
          [self, hash](const caf::error& err) {
            end_upload(self, hash, "", "fetching the binary from the submitter failed: " + self->system().render(err));
          });
}

caf::behavior binary_store(binary_store_actor* self, binary_store_options options,
                           std::shared_ptr<deploy::binary_cache> cache) {
  self->state.options = options;
  self->state.cache = std::move(cache);
  return {
    [self](store_binary_atom, const caf::actor& source, const std::string& hash, std::uint64_t size,
           const std::string& keep) -> caf::result<std::string> {
      auto& st = self->state;
      if (!deploy::valid_content_hash(hash))
        return failure("'" + hash + "' is not a SHA-256 digest (64 lowercase hex digits)");
      if (size > st.options.max_size)
        return failure("the binary is " + config::format_size(static_cast<std::int64_t>(size))
                       + ", more than ember.master.binaryStore.maxSize ("
                       + config::format_size(static_cast<std::int64_t>(st.options.max_size)) + ")");
      if (auto path = st.cache->lookup(hash))
        return path->string();
      if (!source)
        return failure("no submitter to fetch binary " + hash + " from");
      auto rp = self->make_response_promise<std::string>();
      auto [it, fresh] = st.uploads.try_emplace(hash);
      it->second.waiting.push_back(rp);
      if (!fresh)
        return rp;  // the same binary is on its way from another submitter
      try {
        it->second.assembly = std::make_unique<deploy::binary_assembly>(*st.cache, hash);
      } catch (const std::exception& e) {
        end_upload(self, hash, "", std::string{"cannot store the binary: "} + e.what());
        return rp;
      }
      it->second.source = source;
      it->second.keep = split_digests(keep);
      pull_next(self, hash);
      return rp;
    },
    [self](const wire<proto::FetchBinary>& msg) -> caf::result<wire<proto::BinaryChunk>> {
      auto r = msg.reader();
      auto hash = str(r.getContentHash());
      if (!deploy::valid_content_hash(hash))
        return failure("'" + hash + "' is not a SHA-256 digest");
      auto path = self->state.cache->lookup(hash);
      if (!path)
        return failure("the master holds no binary " + hash + " (evicted, or never submitted)");
      return serve_chunk(*path, hash, r, self->state.options.max_chunk_size);
    },
  };
}

} // namespace

caf::behavior binary_server(caf::event_based_actor*, std::string path, std::string hash, std::size_t max_chunk_size) {
  return {
    [=](const wire<proto::FetchBinary>& msg) -> caf::result<wire<proto::BinaryChunk>> {
      auto r = msg.reader();
      if (str(r.getContentHash()) != hash)
        return failure("this process serves " + hash + ", not " + str(r.getContentHash()));
      return serve_chunk(path, hash, r, max_chunk_size);
    },
  };
}

caf::actor spawn_binary_submitter(caf::actor_system& sys, caf::actor master, std::string path, std::string hash,
                                  std::size_t max_chunk_size, caf::timespan timeout) {
  // Everything as spawn arguments, not captures: CAF 0.17.6 starts a function-based actor spawned
  // without arguments through `*args_` on a null shared_ptr<tuple<>> (caf/detail/init_fun_factory.hpp),
  // a reference bound to null (undefined behaviour; UBSan stops on it).
  auto submitter = [](caf::event_based_actor* self, caf::actor master, std::string path, std::string hash,
                      std::size_t max_chunk_size, caf::timespan timeout) -> caf::behavior {
    caf::message_handler submit{
        [=](const wire<proto::RequestSubmitDriver>& r) -> caf::result<wire<proto::SubmitDriverResponse>> {
          auto rp = self->make_response_promise<wire<proto::SubmitDriverResponse>>();
          self->request(master, timeout, r)
              .then([rp](const wire<proto::SubmitDriverResponse>& resp) mutable { rp.deliver(resp); },
                    [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
          return rp;
        },
    };
    return submit.or_else(binary_server(self, path, hash, max_chunk_size));
  };
  return sys.spawn(submitter, std::move(master), std::move(path), std::move(hash), max_chunk_size, timeout);
}

caf::actor spawn_binary_store(caf::actor_system& sys, binary_store_options options) {
  // Created here, so a bad directory fails the master's start with its reason, not the actor.
  auto cache = std::make_shared<deploy::binary_cache>(options.dir, options.max_size);
  return sys.spawn<caf::detached>(binary_store, std::move(options), std::move(cache));
}

} // namespace ember::actors
