// Built-in PostgreSQL type OIDs (checked against PostgreSQL 15's pg_type) and the mapping
// between every built-in array type and its element type.
#pragma once

#include <cstdint>
#include <string_view>

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

// A built-in array type: its OID, its element type's OID and name, its own name, and the delimiter
// that separates elements in its text form (the element type's typdelim: ';' for box, ',' for every
// other built-in type). Every base, range and multirange type of PostgreSQL 15's pg_type that has
// an array type, in element OID order.
struct BuiltinArray {
  uint32_t array_oid;
  uint32_t element_oid;
  std::string_view element_name;
  std::string_view array_name;
  char delimiter;
};

inline constexpr BuiltinArray kBuiltinArrays[] = {
    {1000, 16, "bool", "_bool", ','},
    {1001, 17, "bytea", "_bytea", ','},
    {1002, 18, "char", "_char", ','},
    {1003, 19, "name", "_name", ','},
    {1016, 20, "int8", "_int8", ','},
    {1005, 21, "int2", "_int2", ','},
    {1006, 22, "int2vector", "_int2vector", ','},
    {1007, 23, "int4", "_int4", ','},
    {1008, 24, "regproc", "_regproc", ','},
    {1009, 25, "text", "_text", ','},
    {1028, 26, "oid", "_oid", ','},
    {1010, 27, "tid", "_tid", ','},
    {1011, 28, "xid", "_xid", ','},
    {1012, 29, "cid", "_cid", ','},
    {1013, 30, "oidvector", "_oidvector", ','},
    {199, 114, "json", "_json", ','},
    {143, 142, "xml", "_xml", ','},
    {1017, 600, "point", "_point", ','},
    {1018, 601, "lseg", "_lseg", ','},
    {1019, 602, "path", "_path", ','},
    {1020, 603, "box", "_box", ';'},
    {1027, 604, "polygon", "_polygon", ','},
    {629, 628, "line", "_line", ','},
    {651, 650, "cidr", "_cidr", ','},
    {1021, 700, "float4", "_float4", ','},
    {1022, 701, "float8", "_float8", ','},
    {719, 718, "circle", "_circle", ','},
    {775, 774, "macaddr8", "_macaddr8", ','},
    {791, 790, "money", "_money", ','},
    {1040, 829, "macaddr", "_macaddr", ','},
    {1041, 869, "inet", "_inet", ','},
    {1034, 1033, "aclitem", "_aclitem", ','},
    {1014, 1042, "bpchar", "_bpchar", ','},
    {1015, 1043, "varchar", "_varchar", ','},
    {1182, 1082, "date", "_date", ','},
    {1183, 1083, "time", "_time", ','},
    {1115, 1114, "timestamp", "_timestamp", ','},
    {1185, 1184, "timestamptz", "_timestamptz", ','},
    {1187, 1186, "interval", "_interval", ','},
    {1270, 1266, "timetz", "_timetz", ','},
    {1561, 1560, "bit", "_bit", ','},
    {1563, 1562, "varbit", "_varbit", ','},
    {1231, 1700, "numeric", "_numeric", ','},
    {2201, 1790, "refcursor", "_refcursor", ','},
    {2207, 2202, "regprocedure", "_regprocedure", ','},
    {2208, 2203, "regoper", "_regoper", ','},
    {2209, 2204, "regoperator", "_regoperator", ','},
    {2210, 2205, "regclass", "_regclass", ','},
    {2211, 2206, "regtype", "_regtype", ','},
    {2951, 2950, "uuid", "_uuid", ','},
    {2949, 2970, "txid_snapshot", "_txid_snapshot", ','},
    {3221, 3220, "pg_lsn", "_pg_lsn", ','},
    {3643, 3614, "tsvector", "_tsvector", ','},
    {3645, 3615, "tsquery", "_tsquery", ','},
    {3644, 3642, "gtsvector", "_gtsvector", ','},
    {3735, 3734, "regconfig", "_regconfig", ','},
    {3770, 3769, "regdictionary", "_regdictionary", ','},
    {3807, 3802, "jsonb", "_jsonb", ','},
    {3905, 3904, "int4range", "_int4range", ','},
    {3907, 3906, "numrange", "_numrange", ','},
    {3909, 3908, "tsrange", "_tsrange", ','},
    {3911, 3910, "tstzrange", "_tstzrange", ','},
    {3913, 3912, "daterange", "_daterange", ','},
    {3927, 3926, "int8range", "_int8range", ','},
    {4073, 4072, "jsonpath", "_jsonpath", ','},
    {4090, 4089, "regnamespace", "_regnamespace", ','},
    {4097, 4096, "regrole", "_regrole", ','},
    {4192, 4191, "regcollation", "_regcollation", ','},
    {6150, 4451, "int4multirange", "_int4multirange", ','},
    {6151, 4532, "nummultirange", "_nummultirange", ','},
    {6152, 4533, "tsmultirange", "_tsmultirange", ','},
    {6153, 4534, "tstzmultirange", "_tstzmultirange", ','},
    {6155, 4535, "datemultirange", "_datemultirange", ','},
    {6157, 4536, "int8multirange", "_int8multirange", ','},
    {5039, 5038, "pg_snapshot", "_pg_snapshot", ','},
    {271, 5069, "xid8", "_xid8", ','},
};

// The built-in array type whose OID is `array_oid`, or nullptr.
constexpr const BuiltinArray* builtin_array(uint32_t array_oid) noexcept {
  for (const BuiltinArray& a : kBuiltinArrays) {
    if (a.array_oid == array_oid) return &a;
  }
  return nullptr;
}

// The element type of a built-in array type, or 0 when `array_oid` is not one.
constexpr uint32_t element_oid(uint32_t array_oid) noexcept {
  const BuiltinArray* a = builtin_array(array_oid);
  return a != nullptr ? a->element_oid : 0;
}

// The array type of a built-in element type, or 0 when it has none.
constexpr uint32_t array_oid(uint32_t element) noexcept {
  for (const BuiltinArray& a : kBuiltinArrays) {
    if (a.element_oid == element) return a.array_oid;
  }
  return 0;
}

}  // namespace vil::values
