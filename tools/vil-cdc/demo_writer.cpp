#include "demo_writer.hpp"

#include <chrono>
#include <cstdio>
#include <random>

#include <fmt/format.h>
#include <libpq-fe.h>

namespace vil::cli {

const char* const kDemoSchema = R"sql(
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE TABLE customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text,
  vip boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers,
  status order_status NOT NULL DEFAULT 'new',
  total numeric(10, 2) NOT NULL,
  items text[] NOT NULL,
  shipping jsonb,
  placed_at timestamptz NOT NULL DEFAULT now(),
  delivery_window interval
);
-- Updates and deletes of orders carry the whole old row.
ALTER TABLE orders REPLICA IDENTITY FULL;
INSERT INTO customers (name, email, vip) VALUES
  ('Ada Lovelace', 'ada@example.org', true),
  ('Grace Hopper', 'grace@example.org', false),
  ('Edsger Dijkstra', NULL, false);
)sql";

namespace {

const char* const kNames[] = {"Alan Turing",    "Barbara Liskov",   "Ken Thompson",
                              "Frances Allen",  "Donald Knuth",     "Radia Perlman",
                              "Leslie Lamport", "Margaret Hamilton"};
const char* const kItems[] = {"\"blue mug\"",   "notebook", "\"USB-C cable\"", "\"desk lamp\"",
                              "\"tea, green\"", "stapler",  "\"monitor arm\""};
const char* const kCities[] = {"Lisbon", "Oslo", "Kyoto", "Montréal", "Nairobi", "Quito"};

}  // namespace

DemoWriter::DemoWriter(std::string conninfo, double transactions_per_second)
    : conninfo_(std::move(conninfo)), rate_(transactions_per_second) {
  thread_ = std::thread([this] { run(); });
}

DemoWriter::~DemoWriter() {
  stop();
}

void DemoWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool DemoWriter::pause_for(std::chrono::nanoseconds wait) {
  std::unique_lock lock(mutex_);
  return !stop_cv_.wait_for(lock, wait, [&] { return stop_; });
}

bool DemoWriter::stopping() {
  std::lock_guard lock(mutex_);
  return stop_;
}

void DemoWriter::run() {
  PGconn* conn = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "vil-cdc demo: the writer could not connect: %s", PQerrorMessage(conn));
    PQfinish(conn);
    return;
  }
  std::mt19937 rng(42);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto pause = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(1.0 / rate_));
  while (!stopping()) {
    std::string sql;
    switch (pick(10)) {
      case 0:
        sql = fmt::format("INSERT INTO customers (name, email) VALUES ('{}', NULL)",
                          kNames[pick(std::size(kNames))]);
        break;
      case 1:
      case 2:
      case 3:
        sql = fmt::format(
            "INSERT INTO orders (customer_id, total, items, shipping, delivery_window) SELECT id, "
            "{}.{:02}, '{{{}, {}}}', '{{\"city\": \"{}\", \"express\": {}}}', '{} days {} hours' "
            "FROM customers ORDER BY random() LIMIT 1",
            5 + pick(200), pick(100), kItems[pick(std::size(kItems))],
            kItems[pick(std::size(kItems))], kCities[pick(std::size(kCities))],
            pick(2) ? "true" : "false", 1 + pick(5), pick(24));
        break;
      case 4:
      case 5:
        sql =
            "UPDATE orders SET status = 'paid' WHERE id = (SELECT min(id) FROM orders WHERE "
            "status = 'new')";
        break;
      case 6:
        sql =
            "UPDATE orders SET status = 'shipped' WHERE id = (SELECT min(id) FROM orders WHERE "
            "status = 'paid')";
        break;
      case 7:
        // Two changes in one transaction: cancel an order and make amends.
        sql =
            "BEGIN; UPDATE orders SET status = 'cancelled' WHERE id = (SELECT max(id) FROM "
            "orders WHERE status = 'new'); UPDATE customers SET vip = true WHERE id = (SELECT "
            "customer_id FROM orders WHERE status = 'cancelled' ORDER BY id DESC LIMIT 1); "
            "COMMIT";
        break;
      case 8:
        sql =
            "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders WHERE status = "
            "'cancelled')";
        break;
      default:
        sql =
            "SELECT pg_logical_emit_message(true, 'shop.audit', 'inventory checked at ' || "
            "now()::text)";
        break;
    }
    PGresult* result = PQexec(conn, sql.c_str());
    PQclear(result);
    transactions_.fetch_add(1);
    // Not a sleep: stop() must not wait out a slow --rate.
    if (!pause_for(pause)) break;
  }
  PQfinish(conn);
}

}  // namespace vil::cli
