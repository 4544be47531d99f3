// Small helpers shared by the values tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "vil/values/convert.hpp"
#include "vil/values/json_writer.hpp"
#include "vil/values/oids.hpp"

namespace vil::values::testing {

// The converted value; fails the test (and returns Null) when conversion fails.
inline Value ok(uint32_t type_oid, std::string_view text) {
  auto v = convert(type_oid, text);
  EXPECT_TRUE(v.has_value()) << "convert(" << type_oid << ", '" << text
                             << "') failed: " << (v ? "" : v.error().message);
  if (!v) return Null{};
  return std::move(*v);
}

// The error's message; fails the test when conversion succeeds.
inline ValueError err(uint32_t type_oid, std::string_view text) {
  auto v = convert(type_oid, text);
  EXPECT_FALSE(v.has_value()) << "convert(" << type_oid << ", '" << text << "') succeeded";
  if (v) return {};
  EXPECT_EQ(v.error().type_oid, type_oid);
  return v.error();
}

// The JSON written for one value; fails the test when the writer reports an error.
inline std::string json(uint32_t type_oid, std::string_view text) {
  std::string out;
  auto r = write_json_value(out, type_oid, text);
  EXPECT_TRUE(r.has_value()) << "write_json_value(" << type_oid << ", '" << text
                             << "') failed: " << (r ? "" : r.error().message);
  return out;
}

inline std::string json_string(std::string_view text) {
  std::string out;
  write_json_string(out, text);
  return out;
}

}  // namespace vil::values::testing
