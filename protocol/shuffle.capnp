# Shuffle and block messages: map output registration and lookup (map_output_tracker), block
# locations (block_manager_master), and chunked block transfer between block managers (or a
# worker's shuffle service). Bulk bytes only ever travel in BlockChunk, bounded by
# ember.network.maxChunkSize.
@0xfc003aa94ead61b8;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

using Common = import "common.capnp";
using BlockId = Common.BlockId;
using BlockManagerId = Common.BlockManagerId;
using StorageLevel = Common.StorageLevel;

# -- map outputs ----------------------------------------------------------------------------

struct MapStatus {
  # executor -> driver (inside StatusUpdate.result.mapOutput) and map_output_tracker -> reducers
  # (inside MapOutputs): where one map task's output lives and how large each reduce block is.
  shuffleId @0 :UInt32;
  mapIndex @1 :UInt32;      # the map partition
  mapId @2 :UInt64;         # task id of the attempt that wrote it; names its files and blocks
  mapAttempt @3 :UInt32;
  executorId @4 :Text $Common.required;
  host @5 :Text $Common.required;
  port @6 :UInt16;          # block manager (or shuffle service) port serving the blocks
  sizes @7 :List(UInt64);   # bytes per reduce partition, 0 = empty block (not fetched)
  dataPath @8 :Text;        # the data file on the owner's host, so readers on the same host open
                            # it directly (its index sits beside it: X.data -> X.index)
}

struct RegisterShuffle {
  # dag_scheduler -> map_output_tracker: a new shuffle dependency with its map and reduce counts.
  shuffleId @0 :UInt32;
  numMaps @1 :UInt32;
  numReduces @2 :UInt32;
}

struct GetMapOutputs {
  # executor (reducer) -> map_output_tracker: where are the map outputs of this shuffle?
  # knownEpoch lets the tracker answer "unchanged" cheaply (statuses empty, same epoch).
  shuffleId @0 :UInt32;
  knownEpoch @1 :UInt64;
}

struct MapOutputs {
  # map_output_tracker -> executor: reply to GetMapOutputs. The epoch grows whenever an output is
  # unregistered, so reducers drop cached locations that may point at a lost executor.
  shuffleId @0 :UInt32;
  epoch @1 :UInt64;
  statuses @2 :List(MapStatus);
  missingMapIndexes @3 :List(UInt32);  # outputs not (or no longer) available: FetchFailed soon
}

struct UnregisterMapOutput {
  # dag_scheduler -> map_output_tracker: forget one map output after a FetchFailed (lineage rerun).
  shuffleId @0 :UInt32;
  mapIndex @1 :UInt32;
  mapId @2 :UInt64;
  executorId @3 :Text;
  reason @4 :Text;
}

# -- block transfer -----------------------------------------------------------------------

struct FetchBlocks {
  # reducer / task result fetcher -> remote block manager or shuffle service: send me these
  # blocks, in chunks of at most maxChunkSize bytes. Answered by BlockChunk... or FetchBlockFailed.
  requestId @0 :UInt64;
  blockIds @1 :List(BlockId);
  maxChunkSize @2 :UInt32;
}

struct BlockChunk {
  # block manager -> fetcher: one piece of one requested block, in order. The fetcher checks the
  # checksum (xxh32 of data) and may stop reading early (cancel by dropping the request id).
  requestId @0 :UInt64;
  blockId @1 :BlockId;
  offset @2 :UInt64;
  totalSize @3 :UInt64;
  data @4 :Data;
  checksum @5 :UInt32;
  last @6 :Bool;            # last chunk of this block
}

enum FetchFailureKind {
  notFound @0;
  corrupt @1;
  ioError @2;
  tooLarge @3;
}

struct FetchBlockFailed {
  # block manager -> fetcher: this block cannot be served. For shuffle blocks the task turns it
  # into StatusUpdate.result.fetchFailed.
  requestId @0 :UInt64;
  blockId @1 :BlockId;
  kind @2 :FetchFailureKind;
  message @3 :Text;
}

# -- block locations ----------------------------------------------------------------------

struct UpdateBlockInfo {
  # block manager -> block_manager_master (directly or inside Heartbeat.blockUpdates): a block was
  # stored, changed level, or was dropped (both sizes 0).
  executorId @0 :Text $Common.required;
  blockId @1 :BlockId;
  level @2 :StorageLevel;
  memSize @3 :UInt64;
  diskSize @4 :UInt64;
  host @5 :Text;            # the executor's block server, which serves the block to other
  port @6 :UInt16;          # executors (FetchBlocks with an rdd BlockId); port 0 = none (local mode)
}

struct RemoveRdd {
  # block_manager_master -> block managers: drop every cached partition of an RDD (unpersist).
  rddId @0 :UInt32;
}

struct RemoveBroadcast {
  # block_manager_master -> block managers: drop every piece of a broadcast.
  broadcastId @0 :UInt64;
}

struct GetBlockLocations {
  # task / block manager -> block_manager_master: who holds these blocks?
  blockIds @0 :List(BlockId);
}

struct BlockLocation {
  blockId @0 :BlockId;
  holders @1 :List(BlockManagerId);
}

struct BlockLocations {
  # block_manager_master -> asker: reply to GetBlockLocations, one entry per asked block, in order
  # (holders empty if nobody has it).
  locations @0 :List(BlockLocation);
}

# -- broadcast ------------------------------------------------------------------------------

struct GetBroadcastManifest {
  # executor -> driver: how is this broadcast cut into pieces? (first use on that executor)
  broadcastId @0 :UInt64;
}

struct BroadcastManifest {
  # driver -> executor: the pieces of a broadcast. Pieces are then fetched from any holder with
  # FetchBlocks of BlockId.broadcast ids and checked against pieceChecksums (xxh32).
  broadcastId @0 :UInt64;
  numPieces @1 :UInt32;
  totalSize @2 :UInt64;
  pieceChecksums @3 :List(UInt32);
}

struct BroadcastPiecesStored {
  # executor -> driver: this executor now holds these pieces of a broadcast and its block server
  # (host:port) serves them to peers (TorrentBroadcast's piece registration). The sender is the
  # executor's broadcast agent, which later receives RemoveBroadcast.
  broadcastId @0 :UInt64;
  holder @1 :BlockManagerId;
  pieces @2 :List(UInt32);
}

struct GetBroadcastPieceHolders {
  # executor -> driver: which executors hold this piece? (before fetching it, so pieces spread
  # from peers instead of all from the driver)
  broadcastId @0 :UInt64;
  piece @1 :UInt32;
}

struct BroadcastPieceHolders {
  # driver -> executor: reply to GetBroadcastPieceHolders (empty: fetch it from the driver).
  broadcastId @0 :UInt64;
  piece @1 :UInt32;
  holders @2 :List(BlockManagerId);
}

# -- replication ----------------------------------------------------------------------------

struct ReplicateBlock {
  # block_manager_master -> executor: keep a copy of this block (level with replication > 1 and
  # fewer holders than that): fetch it from `holder`'s block server, store it at `level` and
  # report it with UpdateBlockInfo. The reply (this message) comes once that is done or failed.
  blockId @0 :BlockId;
  level @1 :StorageLevel;
  holder @2 :BlockManagerId;
}
