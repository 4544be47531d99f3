// A user's program against the installed library: built by consume_package.sh
// once through find_package(vil_trigger_cdc) and once with nothing but
// `pkg-config --cflags --libs vil_trigger_cdc`. What it calls reaches each
// dependency the static library needs at link time: yaml-cpp (the YAML form),
// fmt (its messages) and libpq (validate() parses the connection string).

#include <cstdio>
#include <string>

#include "vil/cdc/cdc_config.hpp"
#include "vil/log/dictionary.hpp"

int main() {
  const auto config = vil::cdc::parse_cdc_config_yaml(
      "cdc:\n"
      "  conn_string: \"host=localhost dbname=shop user=repl password=secret\"\n"
      "  slot_name: vil_cdc_slot\n"
      "  publication: vil_pub\n");
  if (!config) {
    std::fprintf(stderr, "consumer: %s\n", config.error().message.c_str());
    return 1;
  }
  if (const auto valid = vil::cdc::validate(*config); !valid) {
    std::fprintf(stderr, "consumer: %s\n", valid.error().message.c_str());
    return 1;
  }
  // A connection string libpq refuses: the error comes back in words.
  vil::cdc::CdcConfig broken = *config;
  broken.conn_string = "host=localhost port";
  const auto refused = vil::cdc::validate(broken);
  if (refused || refused.error().field != "cdc.conn_string") {
    std::fprintf(stderr, "consumer: a broken connection string was accepted\n");
    return 1;
  }
  std::printf("consumer: slot %s (hash %u), %s\n", config->slot_name.c_str(),
              vil::log::register_str(config->slot_name),
              vil::cdc::redact_conn_string(config->conn_string).c_str());
  return 0;
}
