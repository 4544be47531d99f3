// node_consumer: the benchmark's Node.js peer, pg-logical-replication with its
// PgoutputPlugin as its README shows it (the plugin decodes every message and
// every column; the service acknowledges each message itself). Stops after
// the transaction whose commit LSN reaches --end-lsn, or (the latency run)
// after a change to --stop-table. Prints one JSON object on stdout.
//
//   node node_consumer.mjs --slot S --publication P --end-lsn X/Y
//   node node_consumer.mjs ... --stop-table T --latency-out FILE
//
// The connection comes from the PG* environment variables; NODE_PATH must
// name the folder where pg-logical-replication is installed.

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { LogicalReplicationService, PgoutputPlugin } = require('pg-logical-replication');

const { values: args } = parseArgs({
  options: {
    slot: { type: 'string' },
    publication: { type: 'string' },
    'end-lsn': { type: 'string' },
    'stop-table': { type: 'string' },
    'latency-out': { type: 'string' },
    'protocol-version': { type: 'string', default: '1' },
    // 'message': the service acknowledges every message (its default);
    // 'commit': this program acknowledges each commit instead.
    ack: { type: 'string', default: 'message' },
  },
});
if (!args.slot || !args.publication || !args['end-lsn'] === !args['stop-table']) {
  console.error('usage: node_consumer.mjs --slot S --publication P (--end-lsn X/Y | --stop-table T) [--latency-out FILE]');
  process.exit(2);
}

const parseLsn = (text) => {
  const [high, low] = text.split('/');
  return (BigInt('0x' + high) << 32n) | BigInt('0x' + low);
};

const endLsn = args['end-lsn'] ? parseLsn(args['end-lsn']) : null;
const stopTable = args['stop-table'] ?? null;
const latencies = args['latency-out'] ? [] : null;

let rows = 0;
let transactions = 0;
let columns = 0;
let commitTimeUs = 0n;
let stopAfterCommit = false;
let lastCommitEnd = null;
let done = false;

// Wall-clock microseconds; Date.now() has only milliseconds.
const nowUs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));

const ackCommits = args.ack === 'commit';
const service = new LogicalReplicationService({}, { acknowledge: { auto: !ackCommits, timeoutSeconds: 10 } });
const plugin = new PgoutputPlugin({
  protoVersion: Number(args['protocol-version']),
  publicationNames: [args.publication],
});

const finish = async () => {
  await service.stop();
  if (latencies) writeFileSync(args['latency-out'], latencies.join('\n') + '\n');
  process.stdout.write(JSON.stringify({ rows, transactions, columns, last_commit_end: lastCommitEnd }) + '\n');
  process.exit(0);
};

const touch = (tuple) => {
  if (!tuple) return;
  for (const key in tuple) {
    if (tuple[key] !== undefined) ++columns;
  }
};

service.on('data', (lsn, msg) => {
  if (done) return;  // messages after the end, already in the socket buffer
  switch (msg.tag) {
    case 'begin':
      commitTimeUs = msg.commitTime;
      break;
    case 'commit':
      ++transactions;
      lastCommitEnd = msg.commitEndLsn;
      if (ackCommits) service.acknowledge(msg.commitEndLsn);
      if (stopAfterCommit || (endLsn !== null && parseLsn(msg.commitLsn) >= endLsn)) {
        done = true;
        service.acknowledge(msg.commitEndLsn).then(finish);
      }
      break;
    case 'insert':
    case 'update':
    case 'delete':
      ++rows;
      if (latencies) latencies.push(Number(nowUs() - commitTimeUs));
      touch(msg.key);
      touch(msg.old);
      touch(msg.new);
      if (stopTable !== null && msg.relation.name === stopTable) stopAfterCommit = true;
      break;
    default:
      break;
  }
});
service.on('error', (err) => {
  console.error('node_consumer:', err.message ?? err);
  process.exit(1);
});

service.subscribe(plugin, args.slot).catch((err) => {
  console.error('node_consumer:', err.message ?? err);
  process.exit(1);
});
