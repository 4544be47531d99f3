#pragma once
// What a broker sink names things (docs/DESIGN.md §4.5): the destination of
// a change (a Kafka topic, a NATS subject) and the key that identifies it
// across runs (a NATS message id, an HTTP batch's Idempotency-Key, a Kafka
// header), so that every broker sink agrees.
//
// Destinations, for a prefix P:
//   - a row change (insert, update, delete, read): "P.schema.table";
//   - a truncate: "P.schema.table" of each table it names, in its order;
//   - a logical message (pg_logical_emit_message): "P._message".
// Characters of a schema or table name other than ASCII letters, digits, '_'
// and '-' become '_' (a Kafka topic allows only those and '.', a NATS
// subject's '.' separates tokens), as Debezium does.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vil/cdc/change.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::output {

// "P.schema.table", with the names' characters made safe.
[[nodiscard]] std::string table_topic(std::string_view prefix, std::string_view schema,
                                      std::string_view table);

// "P._message": where logical messages go.
[[nodiscard]] std::string message_topic(std::string_view prefix);

// The destinations of `change`, in order, into `out` (cleared first).
void change_topics(std::string_view prefix, const cdc::Change& change,
                   std::vector<std::string>& out);

// Whether `prefix` can start a topic and a subject: non-empty, of ASCII
// letters, digits, '_', '-' and single '.' between them. Otherwise the
// error, in words.
[[nodiscard]] std::string check_topic_prefix(std::string_view prefix);

// The key of a change: "commit_lsn:seq" as PostgreSQL writes LSNs
// ("0/1A2B3C4:3"); for a snapshot row its snapshot's "lsn:seq" (§4.1); for
// a logical message outside a transaction, "lsn:0". Unique across runs for
// the stream's changes, and the same each time a change comes again.
[[nodiscard]] std::string change_key(const cdc::Change& change);

// The same key's two parts, without allocating: the LSN's text and the
// seq's digits (Kafka's vil.commit_lsn and vil.seq headers).
struct ChangeKeyParts {
  pgoutput::LsnText lsn;
  std::array<char, 10> seq{};
  uint8_t seq_size = 0;
  [[nodiscard]] std::string_view seq_view() const { return {seq.data(), seq_size}; }
};
[[nodiscard]] ChangeKeyParts change_key_parts(const cdc::Change& change);

}  // namespace vil::output
