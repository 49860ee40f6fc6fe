/** Grant semijoin rules: recognised exactly, evaluated against the grant table, and kept current. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostModuleSchema } from '../schema/index.js';
import { compileVisibility } from './index.js';
import { parseSemijoinRule } from './semijoin-rule.js';
import { SqlError } from './sql-error.js';
import { encodeRow, loadSchema, tableOf } from './testing/schema.js';

const SYNC_MODULE = new URL('../../module/src/index.ts', import.meta.url).pathname;
let schema: HostModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(SYNC_MODULE);
}, 60_000);

const RULE =
  'SELECT sync_event.* FROM sync_event JOIN stream_grant ON sync_event.stream_id = stream_grant.stream_id WHERE stream_grant.reader = :sender';

describe('grant semijoin rules', () => {
  it('recognises the grant shape, in either ON order and with quoted names, and nothing else', () => {
    expect(parseSemijoinRule(RULE, schema)?.lookupColumn.name).toBe('stream_id');
    const quoted =
      'select "sync_event".* from "sync_event" join "stream_grant" on "stream_grant"."stream_id" = "sync_event"."stream_id" where "stream_grant"."reader" = :sender';
    expect(parseSemijoinRule(quoted, schema)?.target.name).toBe('sync_event');
    expect(parseSemijoinRule('SELECT * FROM sync_event', schema)).toBeUndefined();
    expect(() =>
      parseSemijoinRule(RULE.replace('stream_grant.reader', 'stream_grant.stream_id'), schema),
    ).toThrow(SqlError);
    expect(() =>
      parseSemijoinRule(RULE.replace('sync_event.stream_id =', 'sync_event.seq ='), schema),
    ).toThrow(/differ in type/);
  });

  it('lets a sender see exactly the rows of streams granted to it, and reports grants coming and going', () => {
    const grants: Uint8Array[] = [];
    const me = 7n;
    const grant = (reader: bigint, stream: string) =>
      encodeRow(schema, 'stream_grant', {
        grant_id: BigInt(grants.length + 1),
        reader: { __identity__: reader },
        stream_id: stream,
        granted_at: { __timestamp_micros_since_unix_epoch__: 0n },
      });
    const grantTable = tableOf(schema, 'stream_grant').tableId;
    const eventTable = tableOf(schema, 'sync_event').tableId;
    const visible = compileVisibility(schema, { sender: me, isOwner: false }, (id) =>
      id === grantTable ? grants : [],
    );
    const event = (stream: string) =>
      encodeRow(schema, 'sync_event', {
        event_id: 1n,
        stream_id: stream,
        seq: 1n,
        idempotency_key: 'k',
        kind: 'k',
        payload: new Uint8Array(),
        payload_hash: new Uint8Array(32),
        compaction_key: undefined,
        source_topic: '',
        source_seq: 0n,
        kafka_topic: undefined,
        kafka_partition: undefined,
        kafka_offset: undefined,
        produced_at: { __timestamp_micros_since_unix_epoch__: 0n },
        committed_at: { __timestamp_micros_since_unix_epoch__: 0n },
      });
    expect(visible(eventTable, event('a'))).toBe(false);
    expect(visible.dependsOn.has(grantTable)).toBe(true);
    grants.push(grant(me, 'a'), grant(99n, 'b'));
    const [change] = visible.refresh();
    expect(change?.gained.size).toBe(1);
    expect(change?.wasVisible(event('a'))).toBe(false);
    expect(visible(eventTable, event('a'))).toBe(true);
    expect(visible(eventTable, event('b'))).toBe(false); // granted to someone else
    grants.splice(0, 1);
    const [lost] = visible.refresh();
    expect(lost?.lost.size).toBe(1);
    expect(lost?.wasVisible(event('a'))).toBe(true);
    expect(visible(eventTable, event('a'))).toBe(false);
    expect(compileVisibility(schema, { sender: me, isOwner: true })(eventTable, event('zzz'))).toBe(true);
  });

  it('reads a client’s grants from the index led by the sender column, not the whole grant table', () => {
    const me = 7n;
    const grantTable = tableOf(schema, 'stream_grant');
    const writers = tableOf(schema, 'sync_writer');
    const reads: { tableId: number; scan?: { indexId: number; prefix: Uint8Array; prefixElems: number } }[] =
      [];
    compileVisibility(schema, { sender: me, isOwner: false }, (tableId, scan) => {
      reads.push({ tableId, ...(scan ? { scan } : {}) });
      return [];
    });
    const meBytes = new Uint8Array(32);
    meBytes[0] = 7;
    // stream_grant (reader, stream_id): the reader as the prefix.
    const grantRead = reads.find((r) => r.tableId === grantTable.tableId);
    const byReader = grantTable.indexes.find((i) => i.columns.length === 2 && i.columns[0] === 1);
    expect(grantRead?.scan).toMatchObject({ indexId: byReader?.indexId, prefixElems: 1, prefix: meBytes });
    // sync_writer's primary key is the identity alone: the sender as a range of one value.
    const writerRead = reads.find((r) => r.tableId === writers.tableId);
    expect(writerRead?.scan).toMatchObject({ prefixElems: 0, start: Uint8Array.of(0, ...meBytes) });
  });
});
