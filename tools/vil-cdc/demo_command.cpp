#include "demo_command.hpp"

#include <cstdio>

#include "demo_writer.hpp"
#include "exit_codes.hpp"
#include "stream_command.hpp"
#include "vil/testing/throwaway_cluster.hpp"

namespace vil::cli {

int run_demo(const DemoOptions& options, SignalWatch& signals) {
  std::fputs("vil-cdc demo: starting a throwaway PostgreSQL...\n", stderr);
  try {
    auto cluster = vil::testing::ThrowawayCluster::start();
    cluster.create_database("shop");
    cluster.execute(kDemoSchema, "shop");
    // The slot before the writer starts, so no change is missed.
    cluster.execute("CREATE PUBLICATION vil_demo_pub FOR ALL TABLES", "shop");
    cluster.execute("SELECT pg_create_logical_replication_slot('vil_demo_slot', 'pgoutput')",
                    "shop");
    std::fprintf(stderr,
                 "vil-cdc demo: PostgreSQL on 127.0.0.1:%d, database shop, slot vil_demo_slot; "
                 "streaming %llu changes (Ctrl-C to stop)\n",
                 cluster.port(), static_cast<unsigned long long>(options.max_events));

    StreamSettings settings;
    settings.cdc.conn_string = cluster.conninfo("shop");
    settings.cdc.slot_name = "vil_demo_slot";
    settings.cdc.publication = "vil_demo_pub";
    settings.cdc.status_interval = std::chrono::milliseconds(1000);
    settings.format = options.format;
    settings.max_events = options.max_events;
    settings.quiet = true;  // stdout carries the changes; keep the terminal readable

    DemoWriter writer(cluster.conninfo("shop"), options.rate);
    const int code = run_stream(settings, signals);
    (void)writer.stop();
    std::fprintf(stderr,
                 "vil-cdc demo: done after %llu writer transactions; removing the cluster\n",
                 static_cast<unsigned long long>(writer.transactions()));
    return code;
  } catch (const vil::testing::ClusterError& e) {
    std::fprintf(stderr, "vil-cdc demo: %s\n", e.what());
    return ExitFailure;
  }
}

}  // namespace vil::cli
