#pragma once
// The stateful side of decoding, still without I/O: follows Stream Start/Stop
// (which decides whether change messages carry an xid), remembers relations
// and types, and checks each change against its relation.

#include <cstdint>
#include <expected>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/messages.hpp"
#include "vil/pgoutput/relation_cache.hpp"

namespace vil::pgoutput {

struct DecoderOptions {
  std::uint32_t protocol_version = 1;  // as given to START_REPLICATION (1 to 4)
  bool parallel_streaming = false;     // streaming 'parallel' was requested (protocol 4)
  bool validate_utf8 = true;           // names, prefixes and GIDs must be UTF-8
};

struct DecodedMessage {
  Message message;
  // For Relation, Insert, Update and Delete: the relation's cached description
  // (valid until the next Relation message for the same id); nullptr otherwise.
  const RelationSchema* relation = nullptr;
};

class Decoder {
 public:
  explicit Decoder(DecoderOptions options = {}) noexcept;

  // Decodes one message. A change for a relation never described, or whose
  // tuple has a different column count than its relation, is an error. On
  // error the decoder's state is unchanged.
  [[nodiscard]] std::expected<DecodedMessage, DecodeError> decode(
      std::span<const std::byte> payload);

  [[nodiscard]] bool in_stream() const noexcept { return context_.in_stream; }
  // The streamed transaction of the current block (valid when in_stream()).
  [[nodiscard]] Xid stream_xid() const noexcept { return stream_xid_; }
  [[nodiscard]] const DecoderOptions& options() const noexcept { return options_; }
  [[nodiscard]] const RelationCache& relations() const noexcept { return relations_; }
  [[nodiscard]] const TypeCache& types() const noexcept { return types_; }

  // Forgets stream state, relations and types (a new replication session).
  void reset() noexcept;

 private:
  struct LabelledTuple {
    const TupleView* tuple;
    std::string_view label;
  };
  [[nodiscard]] const RelationSchema* lookup(Oid id) noexcept;
  [[nodiscard]] std::expected<const RelationSchema*, DecodeError> check_change(
      std::span<const std::byte> payload, std::string_view what, const std::optional<Xid>& xid,
      Oid id, std::initializer_list<LabelledTuple> tuples);

  DecoderOptions options_;
  DecodeContext context_;
  Xid stream_xid_ = 0;
  RelationCache relations_;
  TypeCache types_;
  // One-entry memo: consecutive changes mostly hit the same relation.
  Oid last_id_ = 0;
  const RelationSchema* last_relation_ = nullptr;
};

}  // namespace vil::pgoutput
