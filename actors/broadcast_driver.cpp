#include "actors/broadcast_driver.hpp"

#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/broadcast_executor.hpp"
#include "actors/conversions.hpp"
#include "actors/runtime.hpp"
#include "config/config.hpp"
#include "config/log.hpp"

namespace ember::actors {

namespace {

using master_atom = caf::atom_constant<caf::atom("bcmaster")>;
using remove_atom = caf::atom_constant<caf::atom("bcremove")>;

std::string name(uint64_t id) { return "broadcast " + std::to_string(id); }

struct master_state {
  struct executor {
    std::string host;
    uint16_t port = 0;
    caf::actor agent;
  };
  std::shared_ptr<storage::broadcast_store> store;
  std::map<std::string, executor> executors;
  std::map<uint64_t, std::map<uint32_t, std::set<std::string>>> holders; // broadcast -> piece -> executors
  static inline const char* name = "broadcast_master";
};

caf::behavior broadcast_master(caf::stateful_actor<master_state>* self, std::shared_ptr<storage::broadcast_store> store,
                               size_t max_chunk_size, std::chrono::milliseconds ask_timeout, caf::actor linked_to) {
  self->state.store = std::move(store);
  if (linked_to)
    self->link_to(linked_to);
  // An executor that went away holds nothing any more: peers stop being sent there.
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    for (auto e = st.executors.begin(); e != st.executors.end();) {
      if (e->second.agent.address() != dm.source) {
        ++e;
        continue;
      }
      for (auto& [id, pieces] : st.holders)
        for (auto& [piece, who] : pieces)
          who.erase(e->first);
      e = st.executors.erase(e);
    }
  });
  return {
    [=](const wire<proto::GetBroadcastManifest>& msg) -> caf::result<wire<proto::BroadcastManifest>> {
      auto id = msg.reader().getBroadcastId();
      auto m = self->state.store->manifest(id);
      if (!m)
        return caf::make_error(wire_errc::invalid, self->state.store->destroyed(id)
                                                     ? name(id) + " was destroyed; it cannot be used any more"
                                                     : name(id) + " is unknown to the driver");
      return make_wire<proto::BroadcastManifest>([&](proto::BroadcastManifest::Builder b) {
        b.setBroadcastId(id);
        b.setNumPieces(static_cast<uint32_t>(m->checksums.size()));
        b.setTotalSize(m->total_size);
        auto list = b.initPieceChecksums(static_cast<unsigned>(m->checksums.size()));
        for (unsigned i = 0; i < m->checksums.size(); ++i)
          list.set(i, m->checksums[i]);
      });
    },
    [=](const wire<proto::GetBroadcastPieceHolders>& msg) {
      auto r = msg.reader();
      auto& st = self->state;
      std::vector<std::string> who;
      if (auto b = st.holders.find(r.getBroadcastId()); b != st.holders.end())
        if (auto p = b->second.find(r.getPiece()); p != b->second.end())
          who.assign(p->second.begin(), p->second.end());
      return make_wire<proto::BroadcastPieceHolders>([&](proto::BroadcastPieceHolders::Builder b) {
        b.setBroadcastId(r.getBroadcastId());
        b.setPiece(r.getPiece());
        auto list = b.initHolders(static_cast<unsigned>(who.size()));
        for (unsigned i = 0; i < who.size(); ++i) {
          auto& e = st.executors.at(who[i]);
          list[i].setExecutorId(who[i]);
          list[i].setHost(e.host);
          list[i].setPort(e.port);
        }
      });
    },
    [=](const wire<proto::BroadcastPiecesStored>& msg) {
      auto r = msg.reader();
      auto& st = self->state;
      auto id = r.getBroadcastId();
      if (!st.store->manifest(id))
        return; // destroyed meanwhile
      auto executor_id = str(r.getHolder().getExecutorId());
      auto agent = caf::actor_cast<caf::actor>(self->current_sender());
      auto& e = st.executors[executor_id];
      if (agent && e.agent != agent) {
        e.agent = agent;
        self->monitor(agent);
      }
      e.host = str(r.getHolder().getHost());
      e.port = r.getHolder().getPort();
      for (auto p : r.getPieces())
        st.holders[id][p].insert(executor_id);
    },
    [=](const wire<proto::FetchBlocks>& msg) {
      auto req = msg.reader();
      auto to = caf::actor_cast<caf::actor>(self->current_sender());
      size_t chunk = std::min<size_t>(max_chunk_size, std::max<uint32_t>(req.getMaxChunkSize(), 4096));
      for (auto id : req.getBlockIds()) {
        if (id.isBroadcast()) {
          serve_broadcast_piece(self, to, req.getRequestId(), id, *self->state.store, chunk);
          continue;
        }
        self->send(to, make_wire<proto::FetchBlockFailed>([&](proto::FetchBlockFailed::Builder b) {
          b.setRequestId(req.getRequestId());
          b.setBlockId(id);
          b.setKind(proto::FetchFailureKind::NOT_FOUND);
          b.setMessage("the driver serves broadcast pieces only");
        }));
      }
    },
    // unpersist / destroy: every executor holding pieces drops its copies; answered when all did
    // (or did not answer within the ask timeout: an executor that is gone holds nothing).
    [=](remove_atom, uint64_t id) -> caf::result<bool> {
      auto& st = self->state;
      std::set<std::string> who;
      if (auto b = st.holders.find(id); b != st.holders.end())
        for (auto& [piece, executors] : b->second)
          who.insert(executors.begin(), executors.end());
      st.holders.erase(id);
      std::vector<caf::actor> agents;
      for (auto& e : who)
        if (auto i = st.executors.find(e); i != st.executors.end() && i->second.agent)
          agents.push_back(i->second.agent);
      if (agents.empty())
        return true;
      auto rp = self->make_response_promise<bool>();
      auto pending = std::make_shared<size_t>(agents.size());
      auto remove = make_wire<proto::RemoveBroadcast>([&](proto::RemoveBroadcast::Builder b) { b.setBroadcastId(id); });
      for (auto& agent : agents)
        self->request(agent, ask_timeout, remove)
          .then([rp, pending](const wire<proto::RemoveBroadcast>&) mutable {
                  if (--*pending == 0)
                    rp.deliver(true);
                },
                [rp, pending, id](const caf::error& err) mutable {
                  log::get("driver")->warn("{}: an executor did not confirm dropping its copies: {}", name(id),
                                           describe(err));
                  if (--*pending == 0)
                    rp.deliver(true);
                });
      return rp;
    },
  };
}

} // namespace

caf::actor broadcast_master_of(caf::actor_system& sys) {
  return caf::actor_cast<caf::actor>(sys.registry().get(master_atom::value));
}

caf::actor spawn_broadcast_master(caf::actor_system& sys, std::shared_ptr<storage::broadcast_store> store,
                                  size_t max_chunk_size, std::chrono::milliseconds ask_timeout, caf::actor linked_to) {
  // Detached: it copies whole pieces into chunks, which should not hold up the schedulers' threads.
  auto master = sys.spawn<caf::detached>(broadcast_master, std::move(store), max_chunk_size, ask_timeout,
                                         std::move(linked_to));
  // The registry's reference goes when the master ends (a detached actor's thread waits until no
  // strong reference is left, and the actor system's end waits for that thread).
  sys.registry().put(master_atom::value, caf::actor_cast<caf::strong_actor_ptr>(master));
  master->attach_functor([&sys] { sys.registry().erase(master_atom::value); });
  return master;
}

broadcast_driver::broadcast_driver(caf::actor_system& sys, std::shared_ptr<storage::broadcast_store> store,
                                   storage::broadcast_settings settings, caf::actor master,
                                   std::chrono::milliseconds ask_timeout)
  : sys_(sys), store_(std::move(store)), settings_(settings), master_(caf::actor_cast<caf::weak_actor_ptr>(master)),
    local_(!master), ask_timeout_(ask_timeout) {}

uint64_t broadcast_driver::create(std::string_view serialized, std::shared_ptr<const void> value, const char* type) {
  auto id = next_id_.fetch_add(1);
  if (auto why = storage::too_large(id, serialized.size(), settings_.max_size))
    throw storage::broadcast_error(*why);
  // Local mode: the only executor reads the original value; no pieces are needed.
  auto pieces = local_ ? std::vector<std::string>{} : storage::cut_pieces(serialized, settings_.block_size, settings_.compress);
  auto m = storage::manifest_of(id, pieces, serialized.size());
  log::get("driver")->debug("{}: {} bytes in {} pieces", name(id), serialized.size(), pieces.size());
  store_->add(m, std::move(pieces), std::move(value), type);
  return id;
}

void broadcast_driver::remove(uint64_t id, bool destroy) {
  if (local_)
    return; // local mode: the only executor reads the driver's store
  auto master = caf::actor_cast<caf::actor>(master_.lock());
  if (!master)
    throw storage::broadcast_error(name(id) + ": cannot " + (destroy ? "destroy" : "unpersist")
                                   + " it: the application was stopped");
  std::string error;
  caf::scoped_actor self{sys_};
  self->request(master, ask_timeout_, remove_atom::value, id).receive([](bool) {}, [&](const caf::error& err) {
    error = describe(err);
  });
  if (!error.empty())
    throw storage::broadcast_error(name(id) + ": cannot " + (destroy ? "destroy" : "unpersist") + " it: " + error);
}

void broadcast_driver::unpersist(uint64_t id) {
  if (store_->destroyed(id))
    throw storage::broadcast_error(name(id) + " was destroyed; it cannot be used any more");
  remove(id, false);
}

void broadcast_driver::destroy(uint64_t id) {
  store_->destroy(id); // first: executors asking from now on hear that it was destroyed
  remove(id, true);
}

std::shared_ptr<const void> local_broadcast_source::value(uint64_t id, const std::string& type,
                                                          detail::broadcast_decoder) {
  return store_->value(id, type, [&]() -> std::shared_ptr<const void> {
    throw storage::broadcast_error(name(id) + " is unknown to the driver");
  });
}

broadcast_stats local_broadcast_source::stats(uint64_t id) const {
  auto s = store_->stats(id);
  return {"driver", s.fetches, s.pieces_from_driver, s.pieces_from_peers, s.bad_peer_pieces};
}

} // namespace ember::actors
