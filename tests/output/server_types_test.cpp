// Columns whose types the stream names only by OID (domains, arrays of them,
// arrays of built-in types without a kind of their own) take their JSON kind
// from what the server's catalog says, asked once per type.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "session.hpp"
#include "vil/values/type_info.hpp"

namespace vil::output::testing {
namespace {

// A catalog that answers from a table and counts what it was asked.
class FakeCatalog final : public values::ServerCatalog {
 public:
  std::map<uint32_t, values::TypeDescription> types;
  std::map<uint32_t, int> asked;
  bool down = false;
  int encoding_asked = 0;

  std::optional<std::vector<values::TypeDescription>> describe_types(
      std::span<const uint32_t> oids) override {
    if (down) return std::nullopt;
    std::vector<values::TypeDescription> out;
    for (const uint32_t oid : oids) {
      ++asked[oid];
      if (const auto it = types.find(oid); it != types.end()) out.push_back(it->second);
    }
    return out;
  }
  std::optional<std::string> database_encoding() override {
    ++encoding_asked;
    if (down) return std::nullopt;
    return "LATIN1";
  }

  void domain(uint32_t oid, std::string name, uint32_t base) {
    types[oid] = values::TypeDescription{oid, "public", std::move(name), base, 0, ','};
  }
  void array(uint32_t oid, std::string name, uint32_t element, char delimiter = ',') {
    types[oid] = values::TypeDescription{oid, "public", std::move(name), 0, element, delimiter};
  }
};

constexpr uint32_t kPosint = 16500, kPosint2 = 16501, kJdoc = 16502, kFlag = 16503, kRatio = 16504,
                   kMoney = 16505, kTags = 16506, kPosintArray = 16507, kSemi = 16508,
                   kSemiArray = 16509, kGone = 16600;

std::shared_ptr<FakeCatalog> catalog() {
  auto c = std::make_shared<FakeCatalog>();
  c->domain(kPosint, "posint", 23);         // int4
  c->domain(kPosint2, "posint2", kPosint);  // a domain over a domain
  c->domain(kJdoc, "jdoc", 3802);           // jsonb
  c->domain(kFlag, "flag", 16);             // bool
  c->domain(kRatio, "ratio", 701);          // float8
  c->domain(kMoney, "amount", 1700);        // numeric
  c->domain(kTags, "tags", 1009);           // text[]
  c->array(kPosintArray, "_posint", kPosint);
  c->types[kSemi] = values::TypeDescription{kSemi, "public", "semi", 0, 0, ';'};
  c->array(kSemiArray, "_semi", kSemi, ';');
  return c;
}

Wire typed_relation() {
  return relation(16390, "public", "typed", 'd',
                  {{"id", oid::int4, true},
                   {"d", kPosint},
                   {"d2", kPosint2},
                   {"j", kJdoc},
                   {"b", kFlag},
                   {"f", kRatio},
                   {"n", kMoney},
                   {"t", kTags},
                   {"pa", kPosintArray},
                   {"boxes", 1020},   // box[]: elements split on ';'
                   {"ranges", 3927},  // int8range[]
                   {"inets", 1041},   // inet[]
                   {"semis", kSemiArray},
                   {"gone", kGone}});
}

Wire typed_row() {
  return std::move(Wire('I')
                       .u32(16390)
                       .ch('N')
                       .columns(14)
                       .text("1")
                       .text("7")
                       .text("8")
                       .text("{\"k\": 1}")
                       .text("t")
                       .text("1.5")
                       .text("12.50")
                       .text("{a,\"b c\"}")
                       .text("{1,NULL,3}")
                       .text("{(1,1),(0,0);(3,3),(2,2)}")
                       .text("{\"[1,3)\",\"[10,21)\"}")
                       .text("{10.0.0.1/32,::1}")
                       .text("{x,y;z}")
                       .text("kept"));
}

constexpr std::string_view kTypedAfter =
    R"j("after":{"id":1,"d":7,"d2":8,"j":{"k": 1},"b":true,"f":1.5,"n":"12.50","t":["a","b c"],)j"
    R"j("pa":[1,null,3],"boxes":["(1,1),(0,0)","(3,3),(2,2)"],"ranges":["[1,3)","[10,21)"],)j"
    R"j("inets":["10.0.0.1/32","::1"],"semis":["x,y","z"],"gone":"kept"}})j";

std::string after_of(const std::string& line) {
  const auto at = line.find(R"("after":)");
  return at == std::string::npos ? line : line.substr(at, line.size() - at - 1);
}

TEST(ServerTypes, DomainsAndArraysTakeTheirBaseAndElementKinds) {
  auto server = catalog();
  ChangeEncoderOptions options = jsonl_options();
  options.server_catalog = server;
  Session s(options);
  s.feed(typed_relation());
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(after_of(s.encode(typed_row(), 0x1A2B3C4)), kTypedAfter);
  EXPECT_EQ(s.encoder().value_errors(), 0U) << s.encoder().last_value_error();
  // Built-in types are never asked about; each other type once, whatever the
  // row count; the base of posint2 and the element of _posint and _semi were
  // known by then.
  (void)s.encode(typed_row(), 0x1A2B3C8);
  const std::map<uint32_t, int> once = {
      {kPosint, 1}, {kPosint2, 1},     {kJdoc, 1},      {kFlag, 1}, {kRatio, 1}, {kMoney, 1},
      {kTags, 1},   {kPosintArray, 1}, {kSemiArray, 1}, {kSemi, 1}, {kGone, 1}};
  EXPECT_EQ(server->asked, once);
}

TEST(ServerTypes, AChainIsFollowedThroughTypesAskedLater) {
  auto server = catalog();
  ChangeEncoderOptions options = jsonl_options();
  options.server_catalog = server;
  Session s(options);
  // Only the outer types are columns: their base and element types are asked
  // in a second round.
  s.feed(relation(16391, "public", "chain", 'd',
                  {{"id", oid::int4, true}, {"d2", kPosint2}, {"pa", kPosintArray}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  EXPECT_EQ(after_of(s.encode(
                Wire('I').u32(16391).ch('N').columns(3).text("1").text("9").text("{4,5}"), 0)),
            R"("after":{"id":1,"d2":9,"pa":[4,5]}})");
  EXPECT_EQ(server->asked.at(kPosint), 1);
}

TEST(ServerTypes, TypesKeepTheirTextWhileTheServerCannotBeAsked) {
  auto server = catalog();
  server->down = true;
  ChangeEncoderOptions options = jsonl_options();
  options.server_catalog = server;
  Session s(options);
  s.feed(relation(16392, "public", "t", 'd', {{"id", oid::int4, true}, {"d", kPosint}}));
  s.feed(begin(0x1A2B3F0, commit_pg_micros, 742));
  const auto row = [](const char* id) {
    return Wire('I').u32(16392).ch('N').columns(2).text(id).text("7");
  };
  EXPECT_EQ(after_of(s.encode(row("1"), 0)), R"("after":{"id":1,"d":"7"}})");
  // A relation described anew after the server is back asks again.
  server->down = false;
  s.feed(relation(16393, "public", "u", 'd', {{"id", oid::int4, true}, {"d", kPosint}}));
  EXPECT_EQ(after_of(s.encode(Wire('I').u32(16393).ch('N').columns(2).text("2").text("7"), 0)),
            R"("after":{"id":2,"d":7}})");
}

TEST(ServerTypes, MessageContentEncodingIsAskedOnlyForContentThatIsNotAscii) {
  auto server = catalog();
  ChangeEncoderOptions options = jsonl_options();
  options.server_catalog = server;
  Session s(options);
  EXPECT_NE(s.encode(message(false, 0x3000028, "p", "plain"), 0).find(R"("content":"plain")"),
            std::string::npos);
  EXPECT_EQ(server->encoding_asked, 0);
  EXPECT_NE(s.encode(message(false, 0x3000030, "p", "\xe9t\xe9"), 0)
                .find("\"content\":\"\xC3\xA9t\xC3\xA9\""),
            std::string::npos);
  EXPECT_NE(s.encode(message(false, 0x3000038, "p", "\xfc"), 0).find("\"content\":\"\xC3\xBC\""),
            std::string::npos);
  EXPECT_EQ(server->encoding_asked, 1);  // asked once, then kept
}

TEST(ServerTypes, UnknownEncodingKeepsContentThatIsNotAsciiAsBase64) {
  auto server = catalog();
  server->down = true;
  ChangeEncoderOptions options = jsonl_options();
  options.server_catalog = server;
  Session s(options);
  EXPECT_NE(
      s.encode(message(false, 0x3000030, "p", "\xc3\xa9"), 0).find(R"("content_base64":"w6k=")"),
      std::string::npos);
  server->down = false;  // asked again at the next message
  EXPECT_NE(s.encode(message(false, 0x3000038, "p", "\xe9"), 0).find("\"content\":\"\xC3\xA9\""),
            std::string::npos);
}

}  // namespace
}  // namespace vil::output::testing
