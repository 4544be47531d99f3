// Text in a database's encoding -> UTF-8. The stream's text is UTF-8 already (the
// replication session asks the server for it); what the server passes through as bytes, a
// logical message's content above all, is in the database's own encoding.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace vil::values {

// Converts from one PostgreSQL server encoding, named as PostgreSQL names it ("UTF8",
// "LATIN1", "WIN1252", "EUC_JP", "SQL_ASCII", ...), to UTF-8. Not thread-safe.
class Utf8Transcoder {
 public:
  explicit Utf8Transcoder(std::string_view pg_encoding);
  ~Utf8Transcoder();
  Utf8Transcoder(Utf8Transcoder&&) noexcept;
  Utf8Transcoder& operator=(Utf8Transcoder&&) noexcept;
  Utf8Transcoder(const Utf8Transcoder&) = delete;
  Utf8Transcoder& operator=(const Utf8Transcoder&) = delete;

  // The encoding, as given.
  [[nodiscard]] const std::string& encoding() const noexcept;

  // Appends `bytes` as UTF-8 and returns true when they are valid text in the encoding, as
  // PostgreSQL sees text (which never holds a NUL); otherwise leaves `out` as it was and
  // returns false. SQL_ASCII declares no encoding, so only ASCII is text there; an encoding
  // this system cannot convert (MULE_INTERNAL) takes only ASCII too.
  bool append_utf8(std::string_view bytes, std::string& out);

 private:
  struct Converter;
  std::string encoding_;
  std::unique_ptr<Converter> converter_;  // nullptr: UTF8, SQL_ASCII, or not convertible
};

}  // namespace vil::values
