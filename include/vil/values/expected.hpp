// vil::values::Expected: std::expected where the standard library offers it.
//
// Clang 14 cannot instantiate libstdc++ 12's std::expected (it lacks conditionally trivial
// special members), and the libFuzzer targets must be built with clang. So this layer spells
// its results Expected<T, E> / Unexpected<E>: with GCC they ARE std::expected and
// std::unexpected; with clang 14 a small stand-in offering the same members this layer uses.
#pragma once

#include <version>

#if defined(__cpp_lib_expected)
#include <expected>

namespace vil::values {
template <class T, class E>
using Expected = std::expected<T, E>;
template <class E>
using Unexpected = std::unexpected<E>;
}  // namespace vil::values

#else
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace vil::values {

template <class E>
class Unexpected {
 public:
  constexpr explicit Unexpected(E error) : error_(std::move(error)) {}
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class Expected {
 public:
  using value_type = T;
  using error_type = E;

  constexpr Expected() : v_(std::in_place_index<0>) {}
  template <class U = T, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                  !std::is_same_v<std::decay_t<U>, Expected> > >
  constexpr Expected(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  constexpr Expected(const Unexpected<G>& u) : v_(std::in_place_index<1>, u.error()) {}
  template <class G>
  constexpr Expected(Unexpected<G>&& u) : v_(std::in_place_index<1>, std::move(u).error()) {}

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr T& value() & { return std::get<0>(v_); }
  constexpr const T& value() const& { return std::get<0>(v_); }
  constexpr T&& value() && { return std::get<0>(std::move(v_)); }
  constexpr T& operator*() & { return std::get<0>(v_); }
  constexpr const T& operator*() const& { return std::get<0>(v_); }
  constexpr T&& operator*() && { return std::get<0>(std::move(v_)); }
  constexpr T* operator->() { return &std::get<0>(v_); }
  constexpr const T* operator->() const { return &std::get<0>(v_); }
  constexpr E& error() & { return std::get<1>(v_); }
  constexpr const E& error() const& { return std::get<1>(v_); }
  constexpr E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  constexpr Expected() = default;
  template <class G>
  constexpr Expected(const Unexpected<G>& u) : error_(u.error()) {}
  template <class G>
  constexpr Expected(Unexpected<G>&& u) : error_(std::move(u).error()) {}

  constexpr bool has_value() const noexcept { return !error_.has_value(); }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void value() const {}
  constexpr void operator*() const noexcept {}
  constexpr E& error() & { return *error_; }
  constexpr const E& error() const& { return *error_; }
  constexpr E&& error() && { return std::move(*error_); }

 private:
  std::optional<E> error_;
};

}  // namespace vil::values
#endif
