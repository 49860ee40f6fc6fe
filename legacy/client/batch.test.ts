import { describe, expect, it } from 'vitest';
import { khalaFrame } from '../protocol/payloads.js';
import { parseBatch, parseKhalaFrame } from './batch.js';
import { UpdateDedupe } from './update-dedupe.js';

// The three frames of the generation-1 fixture as the fact sheet (§6) describes them.
const replayBatch = {
  updates: [
    {
      topic: 'runtime.run_summaries',
      doc_key: 'run:42',
      doc_version: 42,
      payload: { status: 'running' },
      watermark: 42,
    },
  ],
  replay_complete: false,
  head_watermarks: [{ topic: 'runtime.run_summaries', watermark: 45 }],
};
const staleError = {
  code: 'stale_cursor',
  message: 'cursor is older than retention floor',
  full_resync_required: true,
  stale_topics: [{ topic: 'runtime.run_summaries', resume_after: 10, retention_floor: 42 }],
};

describe('reading the lane pushes', () => {
  it('the replay_batch frame decodes to its update; the fixture omits payload_hash and hydration_required', () => {
    const frame = parseKhalaFrame(
      khalaFrame('runtime.run_summaries', 42, 'KHALA_FRAME_KIND_UPDATE_BATCH', replayBatch),
    );
    expect(frame).toMatchObject({
      topic: 'runtime.run_summaries',
      seq: 42,
      kind: 'KHALA_FRAME_KIND_UPDATE_BATCH',
    });
    const batch = parseBatch(frame.payload);
    expect(batch.updates).toEqual([
      {
        topic: 'runtime.run_summaries',
        watermark: 42,
        docKey: 'run:42',
        docVersion: 42,
        payload: { status: 'running' },
        payloadHash: null,
        hydrationRequired: false,
      },
    ]);
    expect([batch.replayComplete, batch.heads.get('runtime.run_summaries')]).toEqual([false, 45]);
  });

  it('the stale_cursor_error frame (pre-2026-02-21 shape) decodes to its error payload', () => {
    const frame = parseKhalaFrame(
      khalaFrame('runtime.run_summaries', 0, 'KHALA_FRAME_KIND_ERROR', staleError),
    );
    expect([frame.seq, frame.kind, frame.payload]).toEqual([0, 'KHALA_FRAME_KIND_ERROR', staleError]);
  });

  it('the live_tail_batch frame, whose payload has a stray } (not JSON), is bad_frame_payload', () => {
    const broken =
      '{"updates":[{"topic":"runtime.codex_worker_summaries","doc_key":"desktop:worker"},"doc_version":307,"payload":{},"watermark":307}],"replay_complete":true}';
    const frame = {
      topic: 'runtime.codex_worker_summaries',
      seq: 307,
      kind: 'KHALA_FRAME_KIND_UPDATE_BATCH',
      payload_bytes: Buffer.from(broken).toString('base64'),
      schema_version: 1,
    };
    expect(() => parseKhalaFrame(frame)).toThrow(expect.objectContaining({ code: 'bad_frame_payload' }));
  });

  it('refuses frames with another schema_version or missing fields, and batches without typed updates', () => {
    expect(() =>
      parseKhalaFrame({
        ...khalaFrame('t', 1, 'KHALA_FRAME_KIND_UPDATE_BATCH', replayBatch),
        schema_version: 2,
      }),
    ).toThrow(expect.objectContaining({ code: 'malformed_frame' }));
    expect(() => parseKhalaFrame({ topic: 't', seq: 1 })).toThrow(
      expect.objectContaining({ code: 'malformed_frame' }),
    );
    expect(() =>
      parseBatch({ updates: [{ topic: 't', doc_key: 'k', doc_version: 1, watermark: '1' }] }),
    ).toThrow(expect.objectContaining({ code: 'malformed_frame' }));
  });
});

describe('UpdateDedupe', () => {
  it('keys by (topic, watermark): the twin is a duplicate, another hash is a reused watermark', () => {
    const d = new UpdateDedupe();
    expect(d.check('a', 1, 'h1')).toBe('new');
    expect(d.check('a', 1, 'h1')).toBe('duplicate');
    expect(d.check('b', 1, 'x')).toBe('new');
    expect(d.check('a', 1, 'other')).toBe('reused');
    expect(d.check('a', 1, 'other')).toBe('duplicate');
    expect(d.check('a', 2, 'h2')).toBe('new');
    expect(d.watermarks()).toEqual({ a: 2, b: 1 });
  });

  it('past its window an old watermark counts as a duplicate without a hash comparison', () => {
    const d = new UpdateDedupe(2);
    for (const w of [1, 2, 3]) d.check('a', w, `h${w}`);
    expect(d.check('a', 1, 'changed')).toBe('duplicate');
    expect(d.check('a', 3, 'changed')).toBe('reused');
  });
});
