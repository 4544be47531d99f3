#include "vil/values/text_encoding.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "vil/pgoutput/utf8.hpp"

namespace vil::values {
namespace {

// PostgreSQL's server encodings (pg_wchar.h) by the names glibc's iconv knows them by.
// UTF8 and SQL_ASCII need no converter; MULE_INTERNAL has none.
struct EncodingName {
  std::string_view postgres;
  const char* iconv;
};
constexpr std::array<EncodingName, 38> kEncodings = {{
    {"EUC_JP", "EUC-JP"},
    {"EUC_CN", "EUC-CN"},
    {"EUC_KR", "EUC-KR"},
    {"EUC_TW", "EUC-TW"},
    {"EUC_JIS_2004", "EUC-JISX0213"},
    {"LATIN1", "ISO-8859-1"},
    {"LATIN2", "ISO-8859-2"},
    {"LATIN3", "ISO-8859-3"},
    {"LATIN4", "ISO-8859-4"},
    {"LATIN5", "ISO-8859-9"},
    {"LATIN6", "ISO-8859-10"},
    {"LATIN7", "ISO-8859-13"},
    {"LATIN8", "ISO-8859-14"},
    {"LATIN9", "ISO-8859-15"},
    {"LATIN10", "ISO-8859-16"},
    {"WIN1256", "CP1256"},
    {"WIN1258", "CP1258"},
    {"WIN866", "CP866"},
    {"WIN874", "CP874"},
    {"KOI8R", "KOI8-R"},
    {"WIN1251", "CP1251"},
    {"WIN1252", "CP1252"},
    {"ISO_8859_5", "ISO-8859-5"},
    {"ISO_8859_6", "ISO-8859-6"},
    {"ISO_8859_7", "ISO-8859-7"},
    {"ISO_8859_8", "ISO-8859-8"},
    {"WIN1250", "CP1250"},
    {"WIN1253", "CP1253"},
    {"WIN1254", "CP1254"},
    {"WIN1255", "CP1255"},
    {"WIN1257", "CP1257"},
    {"KOI8U", "KOI8-U"},
    {"SJIS", "SHIFT_JIS"},
    {"BIG5", "BIG5"},
    {"GBK", "GBK"},
    {"UHC", "CP949"},
    {"GB18030", "GB18030"},
    {"JOHAB", "JOHAB"},
}};

const char* iconv_name(std::string_view pg_encoding) noexcept {
  for (const EncodingName& e : kEncodings) {
    if (e.postgres == pg_encoding) return e.iconv;
  }
  return nullptr;
}

bool is_ascii(std::string_view bytes) noexcept {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0x80) == 0; });
}

bool has_nul(std::string_view bytes) noexcept {
  return bytes.find('\0') != std::string_view::npos;
}

}  // namespace

struct Utf8Transcoder::Converter {
  iconv_t cd;
  explicit Converter(iconv_t handle) : cd(handle) {}
  ~Converter() { iconv_close(cd); }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;
};

Utf8Transcoder::Utf8Transcoder(std::string_view pg_encoding) : encoding_(pg_encoding) {
  if (const char* name = iconv_name(pg_encoding); name != nullptr) {
    const iconv_t cd = iconv_open("UTF-8", name);
    if (cd != reinterpret_cast<iconv_t>(-1)) converter_ = std::make_unique<Converter>(cd);
  }
}

Utf8Transcoder::~Utf8Transcoder() = default;
Utf8Transcoder::Utf8Transcoder(Utf8Transcoder&&) noexcept = default;
Utf8Transcoder& Utf8Transcoder::operator=(Utf8Transcoder&&) noexcept = default;

const std::string& Utf8Transcoder::encoding() const noexcept {
  return encoding_;
}

bool Utf8Transcoder::append_utf8(std::string_view bytes, std::string& out) {
  // No PostgreSQL text holds a NUL, in any encoding.
  if (has_nul(bytes)) return false;
  // Every server encoding is a superset of ASCII.
  if (is_ascii(bytes)) {
    out.append(bytes);
    return true;
  }
  if (encoding_ == "UTF8") {
    if (!pgoutput::is_valid_utf8(bytes)) return false;
    out.append(bytes);
    return true;
  }
  if (!converter_) return false;
  iconv(converter_->cd, nullptr, nullptr, nullptr, nullptr);  // a fresh shift state
  const std::size_t start = out.size();
  // At most 4 bytes of UTF-8 per input byte for every listed encoding; grown if not.
  std::size_t room = bytes.size() * 4 + 16;
  char* in = const_cast<char*>(bytes.data());  // iconv's signature; it does not write there
  std::size_t in_left = bytes.size();
  for (;;) {
    const std::size_t used = out.size();
    out.resize(used + room);
    char* to = out.data() + used;
    std::size_t to_left = room;
    const std::size_t r = iconv(converter_->cd, &in, &in_left, &to, &to_left);
    out.resize(used + (room - to_left));
    if (r != static_cast<std::size_t>(-1)) {
      // Flush what a stateful encoding holds back, then it is done.
      char tail[16];
      char* t = tail;
      std::size_t t_left = sizeof tail;
      if (iconv(converter_->cd, nullptr, nullptr, &t, &t_left) == static_cast<std::size_t>(-1)) {
        break;
      }
      out.append(tail, sizeof tail - t_left);
      return true;
    }
    if (errno != E2BIG) break;  // EILSEQ, EINVAL: not valid text in this encoding
  }
  out.resize(start);
  return false;
}

}  // namespace vil::values
