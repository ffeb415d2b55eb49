// wire<T>: round trips of every message type (directly and through CAF's binary serializer), and
// rejection of every kind of malformed frame with an error that names the expected type.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include "protocol/messages.hpp"
#include "protocol/register_types.hpp"
#include "tests/support/sample_messages.hpp"
#include "protocol/wire.hpp"

using namespace ember;

namespace {

template <class F>
void for_each_message(F&& f) {
#define EMBER_VISIT(name) f.template operator()<proto::name>(#name);
  EMBER_WIRE_MESSAGES(EMBER_VISIT)
#undef EMBER_VISIT
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

template <class T>
std::string decode_error(const std::string& frame, const wire_limits& limits = wire_limits{}) {
  auto decoded = wire<T>::decode(frame, limits);
  if (decoded)
    return "<decoded>";
  return describe(decoded.error());
}

void put_u32(std::string& frame, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i)
    frame[at + i] = static_cast<char>((x >> (8 * i)) & 0xff);
}

uint64_t get_u64(const std::string& frame, size_t at) {
  uint64_t x;
  std::memcpy(&x, frame.data() + at, 8);
  return x;
}

void put_u64(std::string& frame, size_t at, uint64_t x) {
  std::memcpy(frame.data() + at, &x, 8);
}

wire<proto::StatusUpdate> failed_update_with_cause_chain(int depth) {
  return make_wire<proto::StatusUpdate>([&](proto::StatusUpdate::Builder b) {
    b.setExecutorId("7");
    b.setTaskId(42);
    b.setState(proto::TaskState::FAILED);
    auto error = b.initResult().initError();
    for (int i = 0; i < depth; ++i) {
      error.setKind("std::runtime_error");
      error.setMessage("level " + std::to_string(i));
      error = error.initCause();
    }
  });
}

} // namespace

TEST_CASE("every message type round-trips with all fields set, for every union member") {
  int types = 0;
  std::set<std::string> names;
  std::set<uint64_t> ids;
  for_each_message([&]<class T>(const char* name) {
    ++types;
    names.insert(name);
    ids.insert(capnp::typeId<T>());
    CHECK(wire_name<T>() == name);
    CHECK(wire_name_of(capnp::typeId<T>()) == name);
    auto default_text = text_of(wire<T>{});
    std::set<std::string> distinct;
    for (uint64_t seed = 0; seed < 12; ++seed) {
      auto original = sample_wire<T>(seed);
      INFO(name << " seed " << seed);
      REQUIRE(!original.check());
      auto frame = original.encode();
      CHECK(frame.size() == original.frame_size());
      auto decoded = wire<T>::decode(frame);
      REQUIRE_MESSAGE(decoded, describe(decoded.error()));
      CHECK(text_of(*decoded) == text_of(original));
      CHECK(text_of(*decoded) != default_text);
      CHECK(decoded->encode() == frame);
      distinct.insert(text_of(*decoded));
    }
    // HeartbeatResponse is a single Bool: one non-default value exists.
    constexpr bool single_bool = std::is_same_v<T, proto::HeartbeatResponse>;
    auto expected = single_bool ? 1u : 12u;
    CHECK_MESSAGE(distinct.size() == expected, std::string(name));
  });
  // No duplicates in EMBER_WIRE_MESSAGES, and at least the 74 of the first schema set.
  CHECK(names.size() == static_cast<size_t>(types));
  CHECK(ids.size() == static_cast<size_t>(types));
  CHECK(types >= 74);
}

TEST_CASE("typed readers see exactly what the builders wrote") {
  auto update = make_wire<proto::StatusUpdate>([](proto::StatusUpdate::Builder b) {
    b.setExecutorId("exec-3");
    b.setTaskId(1ull << 40);
    b.setAttempt(2);
    b.setState(proto::TaskState::FINISHED);
    auto status = b.initResult().initMapOutput();
    status.setShuffleId(5);
    status.setMapIndex(9);
    status.setMapId(77);
    status.setExecutorId("exec-3");
    status.setHost("10.0.0.5");
    status.setPort(7337);
    auto sizes = status.initSizes(3);
    sizes.set(0, 0);
    sizes.set(1, 123456789012ull);
    sizes.set(2, 1);
    b.initMetrics().setShuffleWriteBytes(123456789012ull);
  });
  auto decoded = wire<proto::StatusUpdate>::decode(update.encode());
  REQUIRE(decoded);
  auto r = decoded->reader();
  CHECK(r.getExecutorId() == "exec-3");
  CHECK(r.getTaskId() == (1ull << 40));
  CHECK(r.getAttempt() == 2);
  CHECK(r.getState() == proto::TaskState::FINISHED);
  REQUIRE(r.getResult().isMapOutput());
  auto status = r.getResult().getMapOutput();
  CHECK(status.getShuffleId() == 5);
  CHECK(status.getMapIndex() == 9);
  CHECK(status.getMapId() == 77);
  CHECK(status.getHost() == "10.0.0.5");
  CHECK(status.getPort() == 7337);
  REQUIRE(status.getSizes().size() == 3);
  CHECK(status.getSizes()[1] == 123456789012ull);
  CHECK(r.getMetrics().getShuffleWriteBytes() == 123456789012ull);

  auto fetch = make_wire<proto::FetchBlocks>([](proto::FetchBlocks::Builder b) {
    b.setRequestId(11);
    b.setMaxChunkSize(1 << 20);
    auto ids = b.initBlockIds(2);
    auto shuffle = ids[0].initShuffle();
    shuffle.setShuffleId(1);
    shuffle.setMapId(2);
    shuffle.setReduceId(3);
    auto piece = ids[1].initBroadcast();
    piece.setBroadcastId(4);
    piece.setPiece(5);
  });
  auto fr = wire<proto::FetchBlocks>::decode(fetch.encode());
  REQUIRE(fr);
  auto ids = fr->reader().getBlockIds();
  REQUIRE(ids.size() == 2);
  REQUIRE(ids[0].isShuffle());
  CHECK(ids[0].getShuffle().getReduceId() == 3);
  REQUIRE(ids[1].isBroadcast());
  CHECK(ids[1].getBroadcast().getPiece() == 5);
  CHECK(fr->reader().getMaxChunkSize() == (1u << 20));
}

TEST_CASE("copies share the payload and a default wire reads as the default message") {
  auto a = sample_wire<proto::LaunchTask>(3);
  auto b = a;
  CHECK(same_payload(a, b));
  CHECK(b.reader().getTaskBinary().begin() == a.reader().getTaskBinary().begin());
  wire<proto::LaunchTask> empty;
  CHECK(empty.empty());
  CHECK(empty.reader().getTaskId() == 0);
  CHECK(empty.reader().getLocality() == proto::Locality::PROCESS_LOCAL);
  auto decoded = wire<proto::LaunchTask>::decode(empty.encode());
  REQUIRE(decoded);
  CHECK(decoded->reader().getTaskId() == 0);
}

TEST_CASE("truncated frames are rejected at every cut point") {
  auto frame = sample_wire<proto::StatusUpdate>(4).encode();
  REQUIRE(frame.size() > 100);
  for (size_t cut = 0; cut < frame.size(); ++cut) {
    auto err = decode_error<proto::StatusUpdate>(frame.substr(0, cut));
    INFO("cut at " << cut << ": " << err);
    CHECK(contains(err, "malformed StatusUpdate frame: truncated"));
  }
  auto err = decode_error<proto::StatusUpdate>(frame + std::string(8, '\0'));
  CHECK(err == "malformed StatusUpdate frame: 8 bytes after the payload");
}

TEST_CASE("a frame of another root type is rejected naming both types") {
  auto kill = sample_wire<proto::KillTask>(1).encode();
  auto err = decode_error<proto::StatusUpdate>(kill);
  CHECK(contains(err, "expected StatusUpdate, got KillTask (0x"));
  put_u64(kill, 8, 0x0123456789abcdefull);
  CHECK(decode_error<proto::StatusUpdate>(kill) == "expected StatusUpdate, got type 0x0123456789abcdef");
}

TEST_CASE("huge declared lengths and bad magic are rejected before any allocation") {
  auto frame = sample_wire<proto::Heartbeat>(2).encode();
  auto huge = frame;
  put_u32(huge, 4, 0xfffffff8u);
  CHECK(decode_error<proto::Heartbeat>(huge)
        == "malformed Heartbeat frame: payload of 4294967288 bytes exceeds the limit of 67108864");
  auto just_over = frame;
  put_u32(just_over, 4, static_cast<uint32_t>(max_frame_bytes + 8));
  CHECK(contains(decode_error<proto::Heartbeat>(just_over), "exceeds the limit"));
  auto longer = frame;
  put_u32(longer, 4, static_cast<uint32_t>(frame.size() - frame_header_bytes + 64));
  CHECK(contains(decode_error<proto::Heartbeat>(longer), "malformed Heartbeat frame: truncated: header declares"));
  auto odd = frame;
  put_u32(odd, 4, static_cast<uint32_t>(frame.size() - frame_header_bytes - 4));
  odd.resize(odd.size() - 4);
  CHECK(contains(decode_error<proto::Heartbeat>(odd), "not a whole number of words"));
  auto magic = frame;
  magic[0] = 'X';
  CHECK(contains(decode_error<proto::Heartbeat>(magic), "malformed Heartbeat frame: not an Ember frame"));
  wire_limits small;
  small.max_frame_bytes = 64;
  CHECK(contains(decode_error<proto::Heartbeat>(frame, small), "exceeds the limit of 64"));
}

TEST_CASE("pointers out of bounds are rejected") {
  auto frame = sample_wire<proto::RegisterExecutor>(0).encode();
  // Payload: segment table (1 word for one segment), then the root pointer.
  constexpr size_t root_at = frame_header_bytes + 8;
  auto root = get_u64(frame, root_at);
  REQUIRE((root & 3) == 0);  // a struct pointer
  auto bad = frame;
  put_u64(bad, root_at, (root & 0xffffffff00000000ull) | (uint64_t{0x100000} << 2));
  CHECK(contains(decode_error<proto::RegisterExecutor>(bad), "malformed RegisterExecutor frame: "));
  CHECK(contains(decode_error<proto::RegisterExecutor>(bad), "out-of-bounds"));
  // The first pointer field (executorId) pointing far beyond the segment.
  auto data_words = (root >> 32) & 0xffff;
  auto field_at = root_at + 8 + data_words * 8;
  auto text = get_u64(frame, field_at);
  REQUIRE((text & 3) == 1);  // a list pointer
  auto bad_field = frame;
  put_u64(bad_field, field_at, (text & 0xffffffff00000000ull) | (uint64_t{0xfffff} << 2) | 1);
  CHECK(contains(decode_error<proto::RegisterExecutor>(bad_field), "out-of-bounds"));
  // A segment table claiming a segment larger than the payload.
  auto bad_table = frame;
  put_u32(bad_table, frame_header_bytes + 4, 0x00ffffff);
  CHECK(contains(decode_error<proto::RegisterExecutor>(bad_table), "malformed RegisterExecutor frame: "));
}

TEST_CASE("semantic validation: unknown enum values, unknown union members, missing required fields") {
  auto bad_enum = make_wire<proto::StatusUpdate>([](proto::StatusUpdate::Builder b) {
    b.setExecutorId("1");
    b.setState(static_cast<proto::TaskState>(99));
  });
  CHECK(decode_error<proto::StatusUpdate>(bad_enum.encode())
        == "invalid StatusUpdate message: StatusUpdate.state: unknown enum value 99");
  CHECK(describe(bad_enum.check()) == "invalid StatusUpdate message: StatusUpdate.state: unknown enum value 99");

  auto nested_enum = make_wire<proto::Heartbeat>([](proto::Heartbeat::Builder b) {
    b.setExecutorId("1");
    auto updates = b.initBlockUpdates(2);
    updates[0].setExecutorId("1");
    updates[1].setExecutorId("1");
    updates[1].initBlockId().initRdd().setRddId(3);
  });
  CHECK(!nested_enum.check());
  auto missing = make_wire<proto::RegisterExecutor>([](proto::RegisterExecutor::Builder b) {
    b.setHost("h");
    b.setCores(4);
  });
  CHECK(decode_error<proto::RegisterExecutor>(missing.encode())
        == "invalid RegisterExecutor message: RegisterExecutor.executorId: required field is missing");
  auto empty_id = make_wire<proto::Heartbeat>([](proto::Heartbeat::Builder b) {
    b.setExecutorId("1");
    b.initBlockUpdates(1)[0].setExecutorId("");
  });
  CHECK(decode_error<proto::Heartbeat>(empty_id.encode())
        == "invalid Heartbeat message: Heartbeat.blockUpdates[0].executorId: required field is missing");

  // Unknown union discriminant: patch the root struct's discriminant word in the frame.
  auto frame = make_wire<proto::StatusUpdate>([](proto::StatusUpdate::Builder b) {
                 b.setExecutorId("1");
                 b.initResult().setNone();
               }).encode();
  auto result_group = capnp::Schema::from<proto::StatusUpdate>().getFieldByName("result").getType().asStruct();
  auto offset = result_group.getProto().getStruct().getDiscriminantOffset();
  auto at = frame_header_bytes + 16 + offset * 2;  // segment table, root pointer, data section
  frame[at] = 77;
  frame[at + 1] = 0;
  CHECK(decode_error<proto::StatusUpdate>(frame)
        == "invalid StatusUpdate message: StatusUpdate.result: unknown union member");
}

TEST_CASE("deep nesting beyond the limit is rejected") {
  auto shallow = failed_update_with_cause_chain(8);
  CHECK(wire<proto::StatusUpdate>::decode(shallow.encode()));
  auto deep = failed_update_with_cause_chain(wire_nesting_limit + 8);
  auto err = decode_error<proto::StatusUpdate>(deep.encode());
  CHECK(contains(err, "malformed StatusUpdate frame: "));
  CHECK(contains(err, "too deeply-nested"));
}

TEST_CASE("traversal limit and aliased pointers (amplification) are rejected") {
  auto honest = sample_wire<proto::MapOutputs>(1);
  wire_limits tight;
  tight.traversal_words_per_frame_word = 0;
  tight.traversal_slack_words = 4;
  auto err = decode_error<proto::MapOutputs>(honest.encode(), tight);
  CHECK(contains(err, "malformed MapOutputs frame: "));
  CHECK(contains(err, "traversal limit"));
  CHECK(wire<proto::MapOutputs>::decode(honest.encode()));

  // KillExecutors whose executor ids point at the same 8000-byte text: 24 KiB on the wire, 8 MB
  // for a handler that reads every id. Patches the first `aliased` list elements to alias element 0.
  auto aliased_frame = [](unsigned aliased) {
    constexpr unsigned n = 1000;
    capnp::MallocMessageBuilder builder(1 << 16);
    auto root = builder.initRoot<proto::KillExecutors>();
    root.setAppId("app-1");
    auto ids = root.initExecutorIds(n);
    ids.set(0, std::string(8000, 'x'));
    for (unsigned i = 1; i < n; ++i)
      ids.set(i, "a");
    REQUIRE(builder.getSegmentsForOutput().size() == 1);
    auto frame = wire<proto::KillExecutors>::from_builder(builder).encode();
    REQUIRE(wire<proto::KillExecutors>::decode(frame));
    // Segment word w sits at frame offset frame_header_bytes + 8 + 8 * w. The root struct is at
    // word 1 (no data section: pointer appId at word 1, executorIds at word 2).
    auto word_at = [](size_t w) { return frame_header_bytes + 8 + 8 * w; };
    auto list = get_u64(frame, word_at(2));
    REQUIRE((list & 3) == 1);
    auto first = 3 + (static_cast<int32_t>(list & 0xffffffff) >> 2);  // word of element 0
    auto element0 = get_u64(frame, word_at(first));
    auto offset0 = static_cast<int32_t>(element0 & 0xffffffff) >> 2;
    for (unsigned i = 1; i <= aliased; ++i) {
      auto offset = static_cast<uint32_t>(offset0 - static_cast<int32_t>(i));
      put_u64(frame, word_at(first + i), (element0 & 0xffffffff00000000ull) | (uint64_t{offset} << 2) | 1);
    }
    return frame;
  };
  err = decode_error<proto::KillExecutors>(aliased_frame(999));
  INFO(err);
  CHECK(contains(err, "malformed KillExecutors frame: Exceeded message traversal limit"));
  // Mild aliasing stays within the traversal budget but is still caught: more words reachable
  // than the payload holds.
  err = decode_error<proto::KillExecutors>(aliased_frame(2));
  CHECK(contains(err, "malformed KillExecutors frame: pointers alias the same data"));
}

TEST_CASE("random bytes and mutated frames never crash and errors always name the type") {
  std::mt19937_64 rng(20261125);
  auto valid = sample_wire<proto::StatusUpdate>(5).encode();
  int rejected = 0;
  int accepted = 0;
  auto check_one = [&](const std::string& frame) {
    auto decoded = wire<proto::StatusUpdate>::decode(frame);
    if (decoded) {
      ++accepted;
      CHECK_NOTHROW(text_of(*decoded));  // accepted frames are fully readable
    } else {
      ++rejected;
      auto err = describe(decoded.error());
      if (!contains(err, "StatusUpdate"))
        FAIL_CHECK(err);
    }
  };
  for (int i = 0; i < 5000; ++i) {  // pure garbage
    std::string frame(rng() % 300, '\0');
    for (auto& c : frame)
      c = static_cast<char>(rng());
    check_one(frame);
  }
  for (int i = 0; i < 5000; ++i) {  // a valid header with a garbage payload
    std::string frame = valid.substr(0, frame_header_bytes) + std::string(8 * (rng() % 40), '\0');
    put_u32(frame, 4, static_cast<uint32_t>(frame.size() - frame_header_bytes));
    for (size_t j = frame_header_bytes; j < frame.size(); ++j)
      frame[j] = static_cast<char>(rng());
    check_one(frame);
  }
  for (int i = 0; i < 20000; ++i) {  // a valid frame with a few payload bytes flipped
    auto frame = valid;
    for (int flips = 1 + rng() % 4; flips > 0; --flips)
      frame[frame_header_bytes + rng() % (frame.size() - frame_header_bytes)] = static_cast<char>(rng());
    check_one(frame);
  }
  CHECK(rejected > 10000);
  CHECK(rejected + accepted == 30000);
}

TEST_CASE("CAF's binary serializer carries every registered message; bad frames become errors") {
  caf::actor_system_config cfg;
  register_types(cfg);
  caf::actor_system sys{cfg};
  for_each_message([&]<class T>(const char* name) {
    INFO(name);
    auto original = sample_wire<T>(7);
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE(!sink(caf::make_message(original)));
    caf::message restored;
    caf::binary_deserializer source{sys, buf};
    auto err = source(restored);
    REQUIRE_MESSAGE(!err, sys.render(err));
    REQUIRE(restored.match_elements<wire<T>>());
    CHECK(text_of(restored.get_as<wire<T>>(0)) == text_of(original));
    CHECK(caf::to_string(restored).find(name) != std::string::npos);
  });

  // The frame is a length-prefixed string inside CAF's encoding: corrupt its last payload byte's
  // word (the root pointer of a tiny message) and the deserializer reports the error.
  auto good = make_wire<proto::RemoveRdd>([](proto::RemoveRdd::Builder b) { b.setRddId(9); });
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(good));
  auto frame = good.encode();
  REQUIRE(buf.size() > frame.size());
  auto frame_at = buf.size() - frame.size();
  REQUIRE(std::string(buf.begin() + frame_at, buf.end()) == frame);
  auto corrupt = buf;
  for (size_t i = frame_at + frame_header_bytes + 8; i < corrupt.size(); ++i)
    corrupt[i] = '\xff';
  wire<proto::RemoveRdd> out;
  caf::binary_deserializer source{sys, corrupt};
  auto err = source(out);
  REQUIRE(err);
  CHECK(contains(describe(err), "malformed RemoveRdd frame: "));
  CHECK(contains(sys.render(err), "wire_error(malformed: malformed RemoveRdd frame"));
  // A length prefix claiming 4 GiB with a few bytes behind it: CAF's range check, no allocation.
  std::vector<char> lying{'\xff', '\xff', '\xff', '\xff', '\x0f', 'a', 'b'};
  caf::binary_deserializer liar{sys, lying};
  CHECK(liar(out));
  // And an empty frame string.
  std::vector<char> nothing{'\x00'};
  caf::binary_deserializer empty{sys, nothing};
  err = empty(out);
  REQUIRE(err);
  CHECK(contains(describe(err), "malformed RemoveRdd frame: truncated"));
}
