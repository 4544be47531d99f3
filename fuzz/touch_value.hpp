#pragma once
// Shared by the fuzz targets: reads every part of a typed value, so that the
// sanitizers see any view that points nowhere.

#include <cstddef>
#include <type_traits>
#include <variant>

#include "vil/values/value.hpp"

namespace vil::fuzz {

inline std::size_t touch(const values::Value& v) {
  using namespace vil::values;
  std::size_t n = 0;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Array>) {
          for (const Value& e : x.elements()) n += touch(e);
          n += x.dimensions().size();
        } else if constexpr (std::is_same_v<T, Bytea>) {
          n += x.bytes().size();
        } else if constexpr (requires { x.text; }) {
          for (const char c : x.text) n += static_cast<unsigned char>(c);
        }
      },
      static_cast<const ValueVariant&>(v));
  return n;
}

}  // namespace vil::fuzz
