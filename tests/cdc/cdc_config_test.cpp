#include "vil/cdc/cdc_config.hpp"

#include <gtest/gtest.h>

namespace vil::cdc {
namespace {

constexpr const char* kMinimal = R"(cdc:
  conn_string: "host=localhost port=5432 dbname=mydb user=repl password=secret"
  slot_name: "vil_cdc_slot"
  publication: "vil_pub"
)";

TEST(CdcConfigYaml, ReadsTheVilBlockWithDefaults) {
  auto config = parse_cdc_config_yaml(kMinimal);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->conn_string, "host=localhost port=5432 dbname=mydb user=repl password=secret");
  EXPECT_EQ(config->slot_name, "vil_cdc_slot");
  EXPECT_EQ(config->publication, "vil_pub");
  EXPECT_FALSE(config->create_slot);
  EXPECT_FALSE(config->failover);
  EXPECT_FALSE(config->create_publication);
  EXPECT_EQ(config->protocol_version, 0u);
  EXPECT_TRUE(config->messages);
  EXPECT_EQ(config->status_interval, std::chrono::milliseconds(10'000));
  EXPECT_EQ(config->slot_check_interval, std::chrono::milliseconds(2'000));
  EXPECT_EQ(config->reconnect.initial_backoff, std::chrono::milliseconds(500));
  EXPECT_EQ(config->reconnect.max_backoff, std::chrono::milliseconds(30'000));
  EXPECT_FALSE(config->log_changes);
  EXPECT_EQ(config->streaming, Streaming::On);
  EXPECT_EQ(config->streaming_memory_bytes, 16u << 20);
  EXPECT_EQ(config->spill_dir, "");
}

TEST(CdcConfigYaml, ReadsProjectOptions) {
  auto config = parse_cdc_config_yaml(std::string(kMinimal) + R"(  create_slot: true
  temporary_slot: true
  create_publication: [orders, "shop.items"]
  protocol_version: 2
  status_interval_ms: 2500
  slot_check_interval_ms: 0
  reconnect_max_attempts: 3
  log_changes: true
)");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->create_slot);
  EXPECT_TRUE(config->temporary_slot);
  EXPECT_TRUE(config->create_publication);
  EXPECT_FALSE(config->publication_scope.all_tables);
  EXPECT_EQ(config->publication_scope.tables, (std::vector<std::string>{"orders", "shop.items"}));
  EXPECT_EQ(config->protocol_version, 2u);
  EXPECT_EQ(config->status_interval, std::chrono::milliseconds(2500));
  EXPECT_EQ(config->slot_check_interval, std::chrono::milliseconds(0));  // off
  EXPECT_EQ(config->reconnect.max_attempts, 3u);
  EXPECT_TRUE(config->log_changes);
}

TEST(CdcConfigYaml, ReadsFailover) {
  auto config =
      parse_cdc_config_yaml(std::string(kMinimal) + "  create_slot: true\n  failover: true\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->failover);
}

TEST(CdcConfigYaml, ReadsStreaming) {
  auto config = parse_cdc_config_yaml(std::string(kMinimal) +
                                      "  streaming: parallel\n  streaming_memory_bytes: 65536\n"
                                      "  spill_dir: /var/lib/vil-cdc/spill\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->streaming, Streaming::Parallel);
  EXPECT_EQ(config->streaming_memory_bytes, 65536u);
  EXPECT_EQ(config->spill_dir, "/var/lib/vil-cdc/spill");
  auto off = parse_cdc_config_yaml(std::string(kMinimal) + "  streaming: off\n");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->streaming, Streaming::Off);
}

TEST(CdcConfigYaml, CreatePublicationAllOrCommaList) {
  auto all = parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: all\n");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->publication_scope.all_tables);
  auto list = parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: a, b\n");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->publication_scope.tables, (std::vector<std::string>{"a", "b"}));
  // Spaces around names, in a string or a list, are not part of them.
  auto spaced =
      parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: ' a ,\tb,, s.c '\n");
  ASSERT_TRUE(spaced) << spaced.error().message;
  EXPECT_EQ(spaced->publication_scope.tables, (std::vector<std::string>{"a", "b", "s.c"}));
  auto items =
      parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: [' a', 'b ']\n");
  ASSERT_TRUE(items) << items.error().message;
  EXPECT_EQ(items->publication_scope.tables, (std::vector<std::string>{"a", "b"}));
}

TEST(CdcConfigYaml, CreatePublicationTrueIsAllTablesAndFalseIsNone) {
  auto yes = parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: true\n");
  ASSERT_TRUE(yes) << yes.error().message;
  EXPECT_TRUE(yes->create_publication);
  EXPECT_TRUE(yes->publication_scope.all_tables);
  EXPECT_TRUE(yes->publication_scope.tables.empty());
  auto no = parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: false\n");
  ASSERT_TRUE(no) << no.error().message;
  EXPECT_FALSE(no->create_publication);
  // Quoted, it is a table's name like any other.
  auto named = parse_cdc_config_yaml(std::string(kMinimal) + "  create_publication: \"true\"\n");
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_TRUE(named->create_publication);
  EXPECT_EQ(named->publication_scope.tables, (std::vector<std::string>{"true"}));
}

TEST(PublicationScope, AllOrATrimmedList) {
  EXPECT_TRUE(parse_publication_scope("all").all_tables);
  EXPECT_TRUE(parse_publication_scope(" all ").all_tables);
  const PublicationScope list = parse_publication_scope("a, b ,\tpublic.c,,");
  EXPECT_FALSE(list.all_tables);
  EXPECT_EQ(list.tables, (std::vector<std::string>{"a", "b", "public.c"}));
  EXPECT_FALSE(parse_publication_scope(" , ").all_tables);
  EXPECT_TRUE(parse_publication_scope(" , ").tables.empty());
}

struct BadCase {
  std::string yaml;
  std::string field;
  std::string message_part;
};

class CdcConfigYamlErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(CdcConfigYamlErrors, NameTheField) {
  auto config = parse_cdc_config_yaml(GetParam().yaml);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().field, GetParam().field);
  EXPECT_NE(config.error().message.find(GetParam().message_part), std::string::npos)
      << config.error().message;
  // The message is whole on its own: it starts with the field's name.
  if (!GetParam().field.empty()) {
    EXPECT_EQ(config.error().message.rfind(GetParam().field + ": ", 0), 0u)
        << config.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CdcConfigYamlErrors,
    ::testing::Values(
        BadCase{"cdc:\n  slot_name: s\n  publication: p\n", "cdc.conn_string", "is required"},
        BadCase{"cdc:\n  conn_string: host=x\n  publication: p\n", "cdc.slot_name", "is required"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n", "cdc.publication", "is required"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: Bad-Slot\n  publication: p\n",
                "cdc.slot_name", "'Bad-Slot' is not a valid slot name"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "protocol_version: 9\n",
                "cdc.protocol_version", "9 is not a pgoutput protocol version"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "status_interval_ms: soon\n",
                "cdc.status_interval_ms", "'soon' is not a valid value"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "slot_check_interval_ms: -1\n",
                "cdc.slot_check_interval_ms", "must be a number of milliseconds, 0 or more"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  colour: red\n",
                "cdc.colour", "is not a known option"},
        BadCase{"cdc:\n  conn_string: 'host=x password'\n  slot_name: s\n  publication: p\n",
                "cdc.conn_string", "missing \"=\""},
        BadCase{"other: 1\n", "cdc", "no 'cdc:' block"},
        // A key that is a list (valid YAML) must not throw out of the parser.
        BadCase{"cdc:\n  ? [a, b]\n  : 1\n", "cdc", "every key must be an option name"},
        BadCase{"cdc: {? {k: v} : 1, slot_name: s}\n", "cdc", "every key must be an option name"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "create_publication: {a: 1}\n",
                "cdc.create_publication", "use true or 'all' (every table), false"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "create_publication:\n",
                "cdc.create_publication", "has no value; use true or 'all'"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "create_publication: []\n",
                "cdc.create_publication", "names no table"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "create_publication: ' , '\n",
                "cdc.create_publication", "names no table"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "create_slot: true\n  temporary_slot: true\n  failover: true\n",
                "cdc.failover", "a temporary slot cannot be a failover slot"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "failover: maybe\n",
                "cdc.failover", "'maybe' is not a valid value"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "streaming: sometimes\n",
                "cdc.streaming", "'sometimes' is not one of off, on, parallel"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "streaming: parallel\n  protocol_version: 3\n",
                "cdc.streaming", "parallel needs protocol_version 4 (or 0, the highest)"},
        BadCase{"cdc:\n  conn_string: host=x\n  slot_name: s\n  publication: p\n  "
                "streaming_memory_bytes: 1000\n",
                "cdc.streaming_memory_bytes", "must be between 65536 and 17179869184"},
        BadCase{"cdc: [1, 2\n", "", "YAML syntax error at line"}));

TEST(CdcConfig, ValidateMessagesStartWithTheField) {
  CdcConfig config;
  config.conn_string = "host=x";
  config.publication = "p";
  auto r = validate(config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "cdc.slot_name");
  EXPECT_EQ(r.error().message, "cdc.slot_name: is required");
}

TEST(CdcConfig, ConnStringErrorsNeverQuoteSecrets) {
  CdcConfig config;
  config.conn_string = "postgresql://u:s3cr%zzet@localhost/db";
  config.slot_name = "s";
  config.publication = "p";
  auto r = validate(config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("s3cr"), std::string::npos) << r.error().message;
}

TEST(CdcConfig, RedactsPasswords) {
  EXPECT_EQ(redact_conn_string("host=db port=5432 user=repl password=secret dbname=shop"),
            "user=repl password=******** dbname=shop host=db port=5432");
  std::string uri = redact_conn_string("postgresql://repl:topsecret@db:5433/shop");
  EXPECT_EQ(uri.find("topsecret"), std::string::npos);
  EXPECT_NE(uri.find("password=********"), std::string::npos);
  EXPECT_EQ(redact_conn_string("host='unterminated"),
            "<connection string that libpq cannot parse>");
}

TEST(CdcConfig, SlotNames) {
  EXPECT_TRUE(is_valid_slot_name("vil_cdc_slot_1"));
  EXPECT_FALSE(is_valid_slot_name(""));
  EXPECT_FALSE(is_valid_slot_name("x\"; DROP TABLE t; --"));
  EXPECT_FALSE(is_valid_slot_name(std::string(64, 'a')));
  EXPECT_TRUE(is_valid_slot_name(std::string(63, 'a')));
}

}  // namespace
}  // namespace vil::cdc
