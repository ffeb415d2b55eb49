// Record serialization (storage/serde.hpp): round trips of every supported type, exact wire
// bytes of the varint fast paths, malformed input errors, size_estimate.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>

#include "storage/serde.hpp"

namespace geo {
struct point {
  int32_t x = 0;
  double y = 0;
  std::string name;
  bool operator==(const point&) const = default;
};
template <class Inspector>
auto inspect(Inspector& f, point& p) {
  return f(p.x, p.y, p.name);
}
struct shape {
  std::vector<point> points;
  std::optional<std::string> label;
  std::map<std::string, int64_t> tags;
  bool operator==(const shape&) const = default;
};
template <class Inspector>
auto inspect(Inspector& f, shape& s) {
  return f(s.points, s.label, s.tags);
}
struct no_description {
  int a;
};
enum class color : uint16_t { red = 1, green = 500 };
} // namespace geo

namespace {

using ember::byte_reader;
using ember::byte_writer;

template <class T>
T round_trip(const T& x) {
  byte_writer w;
  ember::serialize(w, x);
  byte_reader r(w.data(), w.size());
  T y = ember::deserialize<T>(r);
  CHECK(r.at_end());
  return y;
}

template <class T>
std::string bytes_of(const T& x) {
  byte_writer w;
  ember::serialize(w, x);
  return std::string(w.view());
}

} // namespace

static_assert(ember::detail::inspectable<geo::point>);
static_assert(!ember::detail::inspectable<geo::no_description>,
              "a type without inspect must not be serializable");

TEST_CASE("byte_writer grows, clears and reports its bytes") {
  byte_writer w;
  CHECK(w.empty());
  std::string big(10000, 'q');
  w.put(big.data(), big.size());
  w.put_byte(7);
  CHECK(w.size() == 10001);
  CHECK(w.view().substr(0, 10000) == big);
  CHECK(static_cast<uint8_t>(w.data()[10000]) == 7);
  size_t cap = w.capacity();
  w.clear();
  CHECK(w.size() == 0);
  CHECK(w.capacity() == cap);
  byte_writer moved(std::move(w));
  CHECK(moved.capacity() == cap);
  CHECK(w.capacity() == 0);
}

TEST_CASE("varints use LEB128 and zigzag with exact bytes") {
  CHECK(bytes_of(uint32_t{0}) == std::string("\x00", 1));
  CHECK(bytes_of(uint32_t{127}) == "\x7f");
  CHECK(bytes_of(uint32_t{300}) == "\xac\x02");
  CHECK(bytes_of(int32_t{-1}) == "\x01");
  CHECK(bytes_of(int32_t{1}) == "\x02");
  CHECK(bytes_of(int64_t{-64}) == "\x7f");
  CHECK(bytes_of(std::numeric_limits<uint64_t>::max()).size() == 10);
  CHECK(bytes_of(std::string("hi")) == "\x02hi");
  CHECK(bytes_of(true) == "\x01");
}

TEST_CASE("integers of every width round trip at their limits") {
  auto check_limits = [](auto zero) {
    using T = decltype(zero);
    for (T v : {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T{0}, T{1}, T(-1)})
      CHECK(round_trip(v) == v);
  };
  check_limits(int8_t{});
  check_limits(uint8_t{});
  check_limits(char{});
  check_limits(int16_t{});
  check_limits(uint16_t{});
  check_limits(int32_t{});
  check_limits(uint32_t{});
  check_limits(int64_t{});
  check_limits(uint64_t{});
  std::mt19937_64 rng(42);
  for (int i = 0; i < 1000; ++i) {
    uint64_t u = rng() >> (rng() % 64);
    CHECK(round_trip(u) == u);
    auto s = static_cast<int64_t>(rng()) >> (rng() % 64);
    CHECK(round_trip(s) == s);
  }
}

TEST_CASE("floats, bools, enums and strings round trip") {
  CHECK(round_trip(3.25) == 3.25);
  CHECK(round_trip(-0.5f) == -0.5f);
  CHECK(std::isinf(round_trip(std::numeric_limits<double>::infinity())));
  CHECK(std::isnan(round_trip(std::numeric_limits<double>::quiet_NaN())));
  CHECK(round_trip(true) == true);
  CHECK(round_trip(false) == false);
  CHECK(round_trip(geo::color::green) == geo::color::green);
  CHECK(round_trip(std::string()) == "");
  std::string s(100000, '\0');
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<char>(i * 31);
  CHECK(round_trip(s) == s);
}

TEST_CASE("standard containers round trip, nested") {
  using nested = std::vector<std::pair<std::string, std::vector<std::optional<int16_t>>>>;
  nested n{{"a", {1, std::nullopt, -3}}, {"", {}}, {"long key here", {std::nullopt}}};
  CHECK(round_trip(n) == n);
  std::tuple<int, std::string, double, std::array<uint8_t, 3>> t{-5, "x", 1.5, {1, 2, 3}};
  CHECK(round_trip(t) == t);
  std::array<std::string, 2> as{"p", "q"};
  CHECK(round_trip(as) == as);
  std::vector<double> vd{1.0, -2.5, 1e300};
  CHECK(round_trip(vd) == vd);
  CHECK(bytes_of(vd).size() == 1 + 3 * sizeof(double)); // bulk path: count + raw doubles
  std::vector<int64_t> vi(1000);
  for (size_t i = 0; i < vi.size(); ++i)
    vi[i] = static_cast<int64_t>(i * i) - 500;
  CHECK(round_trip(vi) == vi);
  std::vector<bool> vb{true, false, true, true};
  CHECK(round_trip(vb) == vb);
  std::map<std::string, std::vector<int>> m{{"k1", {1, 2}}, {"k2", {}}};
  CHECK(round_trip(m) == m);
  std::unordered_map<int, std::string> um{{1, "one"}, {-7, "minus seven"}};
  CHECK(round_trip(um) == um);
  std::variant<int, std::string, std::vector<double>> v1 = std::string("var"), v2 = 12,
                                                      v3 = std::vector<double>{0.5};
  CHECK(round_trip(v1) == v1);
  CHECK(round_trip(v2) == v2);
  CHECK(round_trip(v3) == v3);
  std::optional<std::pair<int, int>> none, some = std::pair{3, 4};
  CHECK(round_trip(none) == none);
  CHECK(round_trip(some) == some);
}

TEST_CASE("user types round trip through their inspect description") {
  geo::point p{-7, 2.5, "origin"};
  CHECK(round_trip(p) == p);
  geo::shape s{{{1, 1.0, "a"}, {2, 2.0, "b"}}, "tri", {{"area", 5}, {"sides", 3}}};
  CHECK(round_trip(s) == s);
  std::vector<std::pair<geo::point, geo::shape>> nested{{p, s}, {geo::point{}, geo::shape{}}};
  CHECK(round_trip(nested) == nested);
  // A sequence of records read back one by one.
  byte_writer w;
  for (int i = 0; i < 100; ++i)
    ember::serialize(w, geo::point{i, i * 0.5, std::to_string(i)});
  byte_reader r(w.data(), w.size());
  int count = 0;
  while (!r.at_end()) {
    auto q = ember::deserialize<geo::point>(r);
    CHECK(q == geo::point{count, count * 0.5, std::to_string(count)});
    ++count;
  }
  CHECK(count == 100);
}

TEST_CASE("skip moves past exactly one serialized value") {
  auto check_skip = [](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    byte_writer w;
    ember::serialize(w, x);
    ember::serialize(w, uint8_t{0xAB}); // a sentinel right after the value
    byte_reader r(w.data(), w.size());
    ember::skip<T>(r);
    CHECK(r.offset() == w.size() - 1);
    CHECK(ember::deserialize<uint8_t>(r) == 0xAB);
  };
  check_skip(true);
  check_skip(int8_t{-3});
  check_skip(uint64_t{1} << 62);
  check_skip(int32_t{-100000});
  check_skip(geo::color::green);
  check_skip(2.5);
  check_skip(std::string(300, 'q'));
  check_skip(std::pair<std::array<char, 10>, std::string>{{'k'}, "value"});
  check_skip(std::tuple<int16_t, std::string, float>{-2, "t", 1.5f});
  check_skip(std::vector<uint32_t>{1, 2, 300000});
  check_skip(std::vector<std::string>{"a", "bc"});        // read into a temporary
  check_skip(geo::point{-7, 2.5, "origin"});               // user type: read into a temporary
  byte_writer w;
  ember::serialize(w, std::string("abcdef"));
  byte_reader cut(w.data(), w.size() - 1);
  CHECK_THROWS_AS(ember::skip<std::string>(cut), ember::serde_error);
}

TEST_CASE("malformed input raises serde_error with a clear message") {
  auto fails_with = [](std::string bytes, auto type_tag, const std::string& fragment) {
    using T = decltype(type_tag);
    byte_reader r(bytes.data(), bytes.size());
    std::string msg;
    try {
      (void)ember::deserialize<T>(r);
    } catch (const ember::serde_error& e) {
      msg = e.what();
    }
    INFO("message: " << msg);
    CHECK(msg.find(fragment) != std::string::npos);
  };
  fails_with("", uint32_t{}, "truncated varint at offset 0");
  fails_with("\x80\x80", uint64_t{}, "truncated varint");
  fails_with(std::string(10, '\xff') + "\x01", uint64_t{}, "overlong varint");
  fails_with("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", uint64_t{}, "overlong varint");
  fails_with("\x80\x80\x04", uint16_t{}, "out of range for uint16");
  fails_with("\x80\x80\x04", int16_t{}, "out of range for int16");
  fails_with("\x05hi", std::string{}, "truncated input: need 5 bytes at offset 1, only 2 left");
  fails_with("\x02", bool{}, "invalid bool byte 2");
  fails_with("\x03", std::optional<int>{}, "invalid std::optional tag 3");
  fails_with("\x02\x00", std::variant<int, bool>{}, "std::variant index 2 out of range");
  fails_with("\xff\xff\xff\xff\x0f", std::vector<double>{}, "truncated input");
  fails_with("\x01\x02", std::vector<std::string>{}, "truncated input");
  fails_with(std::string("\x01\x00\x00", 3), double{}, "need 8 bytes at offset 0, only 3 left");
  // a truncated user type names the failing offset
  byte_writer w;
  ember::serialize(w, geo::point{1, 2.0, "abcdef"});
  fails_with(std::string(w.view().substr(0, w.size() - 2)), geo::point{}, "truncated input");
}

TEST_CASE("size_estimate counts sizeof plus heap bytes recursively") {
  CHECK(ember::size_estimate(int64_t{5}) == 8);
  std::string small = "short";
  CHECK(ember::size_estimate(small) == sizeof(std::string));
  std::string big(100, 'x');
  CHECK(ember::size_estimate(big) == sizeof(std::string) + big.capacity() + 1);
  std::vector<int32_t> v;
  v.reserve(10);
  CHECK(ember::size_estimate(v) == sizeof(v) + 10 * sizeof(int32_t));
  std::vector<std::string> vs{big, small};
  CHECK(ember::size_estimate(vs) ==
        sizeof(vs) + vs.capacity() * sizeof(std::string) + vs[0].capacity() + 1);
  geo::point p{1, 2, big};
  CHECK(ember::size_estimate(p) == sizeof(p) + p.name.capacity() + 1);
  std::pair<std::string, int> pr{big, 1};
  CHECK(ember::size_estimate(pr) == sizeof(pr) + pr.first.capacity() + 1);
}
