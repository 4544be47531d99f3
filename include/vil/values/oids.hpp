// Built-in PostgreSQL type OIDs (checked against PostgreSQL 15's pg_type) and the mapping
// from each array type to its element type.
#pragma once

#include <cstdint>

namespace vil::values::oid {

inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kChar = 18;  // "char": one byte
inline constexpr uint32_t kName = 19;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kXml = 142;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestampTz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kTimeTz = 1266;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;

inline constexpr uint32_t kBoolArray = 1000;
inline constexpr uint32_t kByteaArray = 1001;
inline constexpr uint32_t kCharArray = 1002;
inline constexpr uint32_t kNameArray = 1003;
inline constexpr uint32_t kInt8Array = 1016;
inline constexpr uint32_t kInt2Array = 1005;
inline constexpr uint32_t kInt4Array = 1007;
inline constexpr uint32_t kTextArray = 1009;
inline constexpr uint32_t kOidArray = 1028;
inline constexpr uint32_t kJsonArray = 199;
inline constexpr uint32_t kXmlArray = 143;
inline constexpr uint32_t kFloat4Array = 1021;
inline constexpr uint32_t kFloat8Array = 1022;
inline constexpr uint32_t kBpcharArray = 1014;
inline constexpr uint32_t kVarcharArray = 1015;
inline constexpr uint32_t kDateArray = 1182;
inline constexpr uint32_t kTimeArray = 1183;
inline constexpr uint32_t kTimestampArray = 1115;
inline constexpr uint32_t kTimestampTzArray = 1185;
inline constexpr uint32_t kIntervalArray = 1187;
inline constexpr uint32_t kTimeTzArray = 1270;
inline constexpr uint32_t kNumericArray = 1231;
inline constexpr uint32_t kUuidArray = 2951;
inline constexpr uint32_t kJsonbArray = 3807;

}  // namespace vil::values::oid

namespace vil::values {

// The element type of a built-in array type, or 0 when `array_oid` is not one.
constexpr uint32_t element_oid(uint32_t array_oid) noexcept {
  switch (array_oid) {
    case oid::kBoolArray:
      return oid::kBool;
    case oid::kByteaArray:
      return oid::kBytea;
    case oid::kCharArray:
      return oid::kChar;
    case oid::kNameArray:
      return oid::kName;
    case oid::kInt8Array:
      return oid::kInt8;
    case oid::kInt2Array:
      return oid::kInt2;
    case oid::kInt4Array:
      return oid::kInt4;
    case oid::kTextArray:
      return oid::kText;
    case oid::kOidArray:
      return oid::kOid;
    case oid::kJsonArray:
      return oid::kJson;
    case oid::kXmlArray:
      return oid::kXml;
    case oid::kFloat4Array:
      return oid::kFloat4;
    case oid::kFloat8Array:
      return oid::kFloat8;
    case oid::kBpcharArray:
      return oid::kBpchar;
    case oid::kVarcharArray:
      return oid::kVarchar;
    case oid::kDateArray:
      return oid::kDate;
    case oid::kTimeArray:
      return oid::kTime;
    case oid::kTimestampArray:
      return oid::kTimestamp;
    case oid::kTimestampTzArray:
      return oid::kTimestampTz;
    case oid::kIntervalArray:
      return oid::kInterval;
    case oid::kTimeTzArray:
      return oid::kTimeTz;
    case oid::kNumericArray:
      return oid::kNumeric;
    case oid::kUuidArray:
      return oid::kUuid;
    case oid::kJsonbArray:
      return oid::kJsonb;
    default:
      return 0;
  }
}

// The array type of a built-in element type, or 0 when there is none listed here.
constexpr uint32_t array_oid(uint32_t element) noexcept {
  switch (element) {
    case oid::kBool:
      return oid::kBoolArray;
    case oid::kBytea:
      return oid::kByteaArray;
    case oid::kChar:
      return oid::kCharArray;
    case oid::kName:
      return oid::kNameArray;
    case oid::kInt8:
      return oid::kInt8Array;
    case oid::kInt2:
      return oid::kInt2Array;
    case oid::kInt4:
      return oid::kInt4Array;
    case oid::kText:
      return oid::kTextArray;
    case oid::kOid:
      return oid::kOidArray;
    case oid::kJson:
      return oid::kJsonArray;
    case oid::kXml:
      return oid::kXmlArray;
    case oid::kFloat4:
      return oid::kFloat4Array;
    case oid::kFloat8:
      return oid::kFloat8Array;
    case oid::kBpchar:
      return oid::kBpcharArray;
    case oid::kVarchar:
      return oid::kVarcharArray;
    case oid::kDate:
      return oid::kDateArray;
    case oid::kTime:
      return oid::kTimeArray;
    case oid::kTimestamp:
      return oid::kTimestampArray;
    case oid::kTimestampTz:
      return oid::kTimestampTzArray;
    case oid::kInterval:
      return oid::kIntervalArray;
    case oid::kTimeTz:
      return oid::kTimeTzArray;
    case oid::kNumeric:
      return oid::kNumericArray;
    case oid::kUuid:
      return oid::kUuidArray;
    case oid::kJsonb:
      return oid::kJsonbArray;
    default:
      return 0;
  }
}

}  // namespace vil::values
