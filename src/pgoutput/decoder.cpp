#include "vil/pgoutput/decoder.hpp"

#include <fmt/format.h>

namespace vil::pgoutput {
namespace {

std::string describe(const RelationSchema& relation) {
  std::string out;
  append_printable(out, relation.qualified_name);
  out += fmt::format(" (id {})", relation.id);
  return out;
}

// Offset of the relation id in a change message: after the type byte and, in
// a streamed block, the xid.
std::size_t relation_id_offset(const std::optional<Xid>& xid) {
  return xid ? 5 : 1;
}

DecodeError unknown_relation(std::string_view what, std::uint8_t type, std::size_t offset, Oid id) {
  return DecodeError{DecodeErrc::UnknownRelation, type, offset,
                     fmt::format("{}: relation id {} at offset {} was never described by a "
                                 "Relation message",
                                 what, id, offset)};
}

}  // namespace

Decoder::Decoder(DecoderOptions options) noexcept : options_(options) {
  context_.protocol_version = options.protocol_version;
  context_.parallel_streaming = options.parallel_streaming;
  context_.validate_utf8 = options.validate_utf8;
}

void Decoder::reset() noexcept {
  context_.in_stream = false;
  stream_xid_ = 0;
  relations_.clear();
  types_.clear();
  last_id_ = 0;
  last_relation_ = nullptr;
}

const RelationSchema* Decoder::lookup(Oid id) noexcept {
  if (last_relation_ != nullptr && last_id_ == id) return last_relation_;
  const RelationSchema* relation = relations_.find(id);
  if (relation != nullptr) {
    last_id_ = id;
    last_relation_ = relation;
  }
  return relation;
}

std::expected<const RelationSchema*, DecodeError> Decoder::check_change(
    std::span<const std::byte> payload, std::string_view what, const std::optional<Xid>& xid,
    Oid id, std::initializer_list<LabelledTuple> tuples) {
  const auto type = static_cast<std::uint8_t>(payload[0]);
  const RelationSchema* relation = lookup(id);
  if (relation == nullptr) [[unlikely]] {
    return std::unexpected(unknown_relation(what, type, relation_id_offset(xid), id));
  }
  for (const LabelledTuple& tuple : tuples) {
    if (tuple.tuple->size() == relation->columns.size()) [[likely]] {
      continue;
    }
    const auto offset = static_cast<std::size_t>(tuple.tuple->wire_bytes().data() - payload.data());
    return std::unexpected(DecodeError{
        DecodeErrc::ColumnCountMismatch, type, offset,
        fmt::format("{}: {} at offset {} has {} columns but relation {} has {}", what, tuple.label,
                    offset, tuple.tuple->size(), describe(*relation), relation->columns.size())});
  }
  return relation;
}

std::expected<DecodedMessage, DecodeError> Decoder::decode(std::span<const std::byte> payload) {
  auto decoded = decode_message(payload, context_);
  if (!decoded) [[unlikely]] {
    return std::unexpected(std::move(decoded.error()));
  }
  Message& message = *decoded;

  // A change must name a described relation, with as many columns.
  std::expected<const RelationSchema*, DecodeError> relation{nullptr};
  if (const auto* insert = std::get_if<Insert>(&message)) {
    relation = check_change(payload, "Insert", insert->xid, insert->relation_id,
                            {{&insert->new_tuple, "tuple"}});
  } else if (const auto* update = std::get_if<Update>(&message)) {
    if (update->old_kind == OldTuple::None) {
      relation = check_change(payload, "Update", update->xid, update->relation_id,
                              {{&update->new_tuple, "new tuple"}});
    } else {
      relation = check_change(
          payload, "Update", update->xid, update->relation_id,
          {{&update->old_tuple, update->old_kind == OldTuple::Key ? "old key" : "old tuple"},
           {&update->new_tuple, "new tuple"}});
    }
  } else if (const auto* del = std::get_if<Delete>(&message)) {
    relation =
        check_change(payload, "Delete", del->xid, del->relation_id,
                     {{&del->old_tuple, del->old_kind == OldTuple::Key ? "old key" : "old tuple"}});
  } else if (const auto* described = std::get_if<Relation>(&message)) {
    relation = &relations_.store(*described);
    last_id_ = described->id;
    last_relation_ = *relation;
  } else if (const auto* type = std::get_if<Type>(&message)) {
    types_.store(*type);
  } else if (const auto* truncate = std::get_if<Truncate>(&message)) {
    std::size_t offset = relation_id_offset(truncate->xid) + 5;
    for (const Oid id : truncate->relation_ids) {
      if (lookup(id) == nullptr) {
        return std::unexpected(unknown_relation("Truncate", 'T', offset, id));
      }
      offset += 4;
    }
  } else if (const auto* start = std::get_if<StreamStart>(&message)) {
    context_.in_stream = true;
    stream_xid_ = start->xid;
  } else if (std::holds_alternative<StreamStop>(message)) {
    context_.in_stream = false;
  }
  if (!relation) [[unlikely]] {
    return std::unexpected(std::move(relation.error()));
  }
  return std::expected<DecodedMessage, DecodeError>(std::in_place, std::move(message), *relation);
}

}  // namespace vil::pgoutput
