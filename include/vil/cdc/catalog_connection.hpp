#pragma once
// CatalogConnection: the server's catalog, asked over an ordinary (not
// replication) connection of its own, for what the stream leaves out: the
// base type of a domain, the element type and delimiter of an array type it
// names only by OID, the database's encoding. It is used from the thread that
// encodes changes, so the replication connection (and its keepalives) never
// waits for it; each type is asked about once per run (the TypeCatalog that
// uses it caches the answers).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vil/values/type_info.hpp"

namespace vil::cdc {

class CatalogConnection final : public values::ServerCatalog {
 public:
  // `on_error` hears, in words and without the password, why the server
  // could not be asked (then types keep their text); it is called at most
  // once per failed attempt, and attempts after a failure wait `retry_after`.
  explicit CatalogConnection(std::string conn_string,
                             std::function<void(const std::string&)> on_error = {},
                             std::chrono::milliseconds retry_after = std::chrono::seconds(30));
  ~CatalogConnection() override;
  CatalogConnection(const CatalogConnection&) = delete;
  CatalogConnection& operator=(const CatalogConnection&) = delete;

  std::optional<std::vector<values::TypeDescription>> describe_types(
      std::span<const uint32_t> oids) override;
  std::optional<std::string> database_encoding() override;

 private:
  struct Connection;
  bool ensure_connected();
  void fail(const std::string& what);

  std::string conn_string_;
  std::function<void(const std::string&)> on_error_;
  std::chrono::milliseconds retry_after_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::unique_ptr<Connection> connection_;
};

}  // namespace vil::cdc
