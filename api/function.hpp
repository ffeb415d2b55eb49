// Shipping user functions. The executor runs the same binary as the driver, so a function is
// identified by its type: a captureless lambda (an empty, default-constructible type) is rebuilt
// on the executor from its type alone. State travels explicitly through ember::bind, which
// serializes the bound values; a capturing lambda or a function pointer is a compile error.
#pragma once

#include <concepts>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "storage/serde.hpp"

namespace ember {

// The values a function needs, bound explicitly and shipped by value:
//   ds.map(ember::bind([](const params& p, int x) { return x * p.scale; }, p))
template <class F, class... Args>
struct bound {
  static_assert(std::is_empty_v<F>, "ember::bind: the function itself must not capture anything; "
                                    "pass the values it needs as bound arguments");
  std::tuple<Args...> args;

  template <class... Ts>
  decltype(auto) operator()(Ts&&... xs) const {
    return std::apply([&](const Args&... as) -> decltype(auto) { return F{}(as..., std::forward<Ts>(xs)...); }, args);
  }
};

template <class Inspector, class F, class... Args>
auto inspect(Inspector& f, bound<F, Args...>& b) {
  return std::apply([&](auto&... as) { return f(as...); }, b.args);
}

template <class F, class... Args>
bound<F, std::decay_t<Args>...> bind(F, Args&&... args) {
  return {std::tuple<std::decay_t<Args>...>{std::forward<Args>(args)...}};
}

template <class F>
struct is_bound : std::false_type {};
template <class F, class... Args>
struct is_bound<bound<F, Args...>> : std::true_type {};

// A function object built from other shippable functions (the library's own adapters): it
// says how to write and read its state.
template <class F>
concept composite_function = requires(const F& f, byte_writer& w, byte_reader& r) {
  typename F::ember_composite;
  f.save(w);
  { F::load(r) } -> std::same_as<F>;
};

// True for what can be shipped: captureless lambdas and empty function objects (rebuilt from
// the type), and ember::bind results (rebuilt from the type plus serialized values).
template <class F>
inline constexpr bool is_shippable_v
  = (std::is_empty_v<F> && std::is_default_constructible_v<F>) || is_bound<F>::value
    || composite_function<F>;

#define EMBER_REQUIRE_SHIPPABLE(F)                                                                 \
  static_assert(::ember::is_shippable_v<F>,                                                        \
                "ember: this function cannot be shipped to executors. A lambda that captures "     \
                "variables (or a function pointer) would be rebuilt on another machine without "   \
                "them. Make the lambda captureless and pass the values it needs with "             \
                "ember::bind(fn, values...), which serializes them explicitly.")

// Writes/reads a function's state: nothing for empty types, the bound values for ember::bind.
template <class F>
void serialize_function(byte_writer& w, const F& f) {
  if constexpr (composite_function<F>)
    f.save(w);
  else if constexpr (is_bound<F>::value)
    serialize(w, f);
}

template <class F>
F deserialize_function(byte_reader& r) {
  if constexpr (composite_function<F>) {
    return F::load(r);
  } else if constexpr (is_bound<F>::value) {
    F f;
    deserialize(r, f);
    return f;
  } else {
    return F{};
  }
}

// Adapters the library composes from user functions.
// (key_fn(x), x): sort_by.
template <class F>
struct key_with {
  using ember_composite = void;
  F f;
  template <class T>
  auto operator()(T x) const {
    auto k = f(static_cast<const T&>(x));
    return std::pair{std::move(k), std::move(x)};
  }
  void save(byte_writer& w) const { serialize_function(w, f); }
  static key_with load(byte_reader& r) { return {deserialize_function<F>(r)}; }
};

// (k, f(v)): map_values.
template <class F>
struct on_value {
  using ember_composite = void;
  F f;
  template <class P>
  auto operator()(P p) const {
    return std::pair{std::move(p.first), f(std::move(p.second))};
  }
  void save(byte_writer& w) const { serialize_function(w, f); }
  static on_value load(byte_reader& r) { return {deserialize_function<F>(r)}; }
};

// A non-owning reference to a callable: the per-record sink of push-based pipelines. Cheaper
// than std::function (no allocation, one indirect call).
template <class Sig>
class function_ref;

template <class R, class... Args>
class function_ref<R(Args...)> {
public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, function_ref>>>
  function_ref(F&& f) noexcept // NOLINT: implicit by design, like std::function
    : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
      call_([](void* o, Args... as) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(as)...); }) {}

  R operator()(Args... as) const { return call_(obj_, std::forward<Args>(as)...); }

private:
  void* obj_;
  R (*call_)(void*, Args...);
};

} // namespace ember
