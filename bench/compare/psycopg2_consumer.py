#!/usr/bin/python3
"""psycopg2_consumer: the benchmark's Python peer.

A LogicalReplicationConnection consumer as a user would write one: it decodes
every pgoutput message (type, relation cache, tuple columns to Python values),
confirms each transaction after its commit, and stops after the transaction
whose commit LSN reaches --end-lsn (or, with --stop-table, after a change to
that table; the latency run). Prints one JSON object on stdout.

    psycopg2_consumer.py --dsn DSN --slot S --publication P --end-lsn X/Y
    psycopg2_consumer.py ... --stop-table T --latency-out FILE
"""

import argparse
import json
import struct
import sys
import time

import psycopg2
import psycopg2.extras

# pgoutput timestamps count microseconds from 2000-01-01.
PG_EPOCH_US = 946_684_800_000_000

INT_TYPES = {20, 21, 23, 26}  # int8, int2, int4, oid
FLOAT_TYPES = {700, 701}
BOOL_TYPE = 16

_u8 = struct.Struct("!B").unpack_from
_i16 = struct.Struct("!h").unpack_from
_u32 = struct.Struct("!I").unpack_from
_i32 = struct.Struct("!i").unpack_from
_u64 = struct.Struct("!Q").unpack_from
_begin = struct.Struct("!QqI").unpack_from  # final LSN, commit time, xid
_commit = struct.Struct("!BQQq").unpack_from  # flags, commit LSN, end LSN, commit time


def parse_lsn(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(value):
    return "%X/%X" % (value >> 32, value & 0xFFFFFFFF)


def read_cstring(buf, pos):
    end = buf.index(b"\0", pos)
    return buf[pos:end].decode("utf-8"), end + 1


def convert(type_oid, text):
    if type_oid in INT_TYPES:
        return int(text)
    if type_oid == BOOL_TYPE:
        return text == "t"
    if type_oid in FLOAT_TYPES:
        return float(text)
    return text  # numeric, timestamptz, text...: the server's text form


class Relation:
    __slots__ = ("oid", "namespace", "name", "replica_identity", "columns")

    def __init__(self, oid, namespace, name, replica_identity, columns):
        self.oid = oid
        self.namespace = namespace
        self.name = name
        self.replica_identity = replica_identity
        self.columns = columns  # [(flags, name, type oid, type modifier)]


class Consumer:
    def __init__(self, args):
        self.end_lsn = parse_lsn(args.end_lsn) if args.end_lsn else None
        self.stop_table = args.stop_table
        self.latencies = [] if args.latency_out else None
        self.relations = {}
        self.types = {}
        self.commit_time_us = 0
        self.rows = 0
        self.transactions = 0
        self.columns = 0
        self.stop_after_commit = False
        self.last_commit_end = 0

    def read_tuple(self, buf, pos, relation):
        (count,) = _i16(buf, pos)
        pos += 2
        row = {}
        columns = relation.columns
        for i in range(count):
            kind = buf[pos]
            pos += 1
            name = columns[i][1]
            if kind == 0x74 or kind == 0x62:  # 't' text, 'b' binary
                (length,) = _u32(buf, pos)
                pos += 4
                raw = buf[pos : pos + length]
                pos += length
                row[name] = convert(columns[i][2], raw.decode("utf-8")) if kind == 0x74 else raw
            elif kind == 0x6E:  # 'n' null
                row[name] = None
            else:  # 'u' unchanged TOAST: not sent
                row[name] = ...
        self.columns += count
        return row, pos

    def change(self, relation, old, new):
        self.rows += 1
        if self.latencies is not None:
            self.latencies.append(time.time_ns() // 1000 - self.commit_time_us)
        if self.stop_table is not None and relation.name == self.stop_table:
            self.stop_after_commit = True
        return old, new

    def __call__(self, msg):
        buf = msg.payload
        kind = buf[0]
        if kind == 0x42:  # 'B'
            _final_lsn, commit_time, _xid = _begin(buf, 1)
            self.commit_time_us = commit_time + PG_EPOCH_US
        elif kind == 0x43:  # 'C'
            _flags, commit_lsn, end_lsn, _commit_time = _commit(buf, 1)
            self.transactions += 1
            self.last_commit_end = end_lsn
            done = self.stop_after_commit or (
                self.end_lsn is not None and commit_lsn >= self.end_lsn
            )
            msg.cursor.send_feedback(flush_lsn=end_lsn, force=done)
            if done:
                raise psycopg2.extras.StopReplication()
        elif kind == 0x49:  # 'I'
            (oid,) = _u32(buf, 1)
            relation = self.relations[oid]
            new, _ = self.read_tuple(buf, 6, relation)  # after 'N'
            self.change(relation, None, new)
        elif kind == 0x55:  # 'U'
            (oid,) = _u32(buf, 1)
            relation = self.relations[oid]
            pos = 5
            old = None
            if buf[pos] in (0x4B, 0x4F):  # 'K' key, 'O' old row
                old, pos = self.read_tuple(buf, pos + 1, relation)
            new, _ = self.read_tuple(buf, pos + 1, relation)
            self.change(relation, old, new)
        elif kind == 0x44:  # 'D'
            (oid,) = _u32(buf, 1)
            relation = self.relations[oid]
            old, _ = self.read_tuple(buf, 6, relation)
            self.change(relation, old, None)
        elif kind == 0x52:  # 'R'
            (oid,) = _u32(buf, 1)
            namespace, pos = read_cstring(buf, 5)
            name, pos = read_cstring(buf, pos)
            replica_identity = chr(buf[pos])
            (count,) = _i16(buf, pos + 1)
            pos += 3
            columns = []
            for _ in range(count):
                flags = buf[pos]
                column, pos = read_cstring(buf, pos + 1)
                (type_oid,) = _u32(buf, pos)
                (type_mod,) = _i32(buf, pos + 4)
                pos += 8
                columns.append((flags, column, type_oid, type_mod))
            self.relations[oid] = Relation(oid, namespace or "pg_catalog", name, replica_identity, columns)
        elif kind == 0x59:  # 'Y'
            (oid,) = _u32(buf, 1)
            namespace, pos = read_cstring(buf, 5)
            name, _ = read_cstring(buf, pos)
            self.types[oid] = (namespace, name)
        elif kind in (0x4F, 0x54, 0x4D):  # 'O' origin, 'T' truncate, 'M' message
            pass
        else:
            raise RuntimeError("unknown pgoutput message %r" % chr(kind))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--slot", required=True)
    parser.add_argument("--publication", required=True)
    parser.add_argument("--end-lsn")
    parser.add_argument("--stop-table")
    parser.add_argument("--latency-out")
    parser.add_argument("--protocol-version", default="1")
    args = parser.parse_args()
    if (args.end_lsn is None) == (args.stop_table is None):
        parser.error("give one of --end-lsn and --stop-table")

    conn = psycopg2.connect(args.dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    cur = conn.cursor()
    cur.start_replication(
        slot_name=args.slot,
        decode=False,
        options={"proto_version": args.protocol_version, "publication_names": args.publication},
    )
    consumer = Consumer(args)
    try:
        cur.consume_stream(consumer)
    except psycopg2.extras.StopReplication:
        pass
    conn.close()
    if args.latency_out:
        with open(args.latency_out, "w") as out:
            out.write("\n".join(str(v) for v in consumer.latencies))
            out.write("\n")
    json.dump(
        {
            "rows": consumer.rows,
            "transactions": consumer.transactions,
            "columns": consumer.columns,
            "last_commit_end": format_lsn(consumer.last_commit_end),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
