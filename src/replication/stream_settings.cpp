#include "vil/replication/stream_settings.hpp"

#include <libpq-fe.h>

#include <fmt/format.h>

namespace vil::replication {

std::string session_options(std::string_view conn_string) {
  constexpr std::string_view kFixed =
      "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3";
  std::string options(kFixed);
  PQconninfoOption* parsed = PQconninfoParse(std::string(conn_string).c_str(), nullptr);
  if (parsed == nullptr) return options;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "options" && o->val != nullptr && o->val[0] != '\0') {
      options = fmt::format("{} {}", o->val, kFixed);
    }
  }
  PQconninfoFree(parsed);
  return options;
}

std::string redact_conn_string(std::string_view conn_string) {
  PQconninfoOption* options = PQconninfoParse(std::string(conn_string).c_str(), nullptr);
  if (options == nullptr) return "<connection string that libpq cannot parse>";
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    if (!out.empty()) out += ' ';
    std::string_view key = o->keyword;
    // libpq marks secret options with '*' in dispchar (password, sslpassword...).
    bool secret = o->dispchar != nullptr && o->dispchar[0] == '*';
    out += fmt::format("{}={}", key, secret ? "********" : o->val);
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace vil::replication
