/**
 * Inputs of the legacy lane's Phoenix V2 frames, shared by the decoder/channel target and the live
 * socket target: frames built from the protocol's events and payload shapes with arbitrary values,
 * subscriptions the lane accepts, arbitrary text, and frames mutated byte by byte.
 */
import fc from 'fast-check';
import { mutatedText } from './fuzz.js';

export const RUNS = 'runtime.run_summaries';

export const weird = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1e300, Number.MAX_SAFE_INTEGER + 2, '', 'x', [], {}),
  fc.jsonValue({ maxDepth: 3 }),
);
const topic = fc.oneof(
  fc.constantFrom(RUNS, ` ${RUNS} `, 'runtime.codex_worker_events', 'not.served', ''),
  fc.string({ maxLength: 12 }),
);
const payload = fc.oneof(
  fc.record(
    {
      topics: fc.oneof(fc.array(fc.oneof(topic, weird), { maxLength: 4 }), weird),
      resume_after: fc.oneof(
        fc.dictionary(topic, fc.oneof(fc.integer({ min: -5, max: 400 }), weird), { maxKeys: 3 }),
        fc.array(fc.record({ topic, watermark: fc.oneof(fc.nat(), weird) }), { maxLength: 3 }),
        weird,
      ),
      replay_batch_size: fc.oneof(fc.integer({ min: -2, max: 5000 }), weird),
    },
    { requiredKeys: [] },
  ),
  weird,
);
const ref = fc.oneof(fc.constant(null), fc.nat({ max: 20 }).map(String), weird);
export const frameText = fc
  .record({
    joinRef: ref,
    ref,
    topic: fc.oneof(fc.constantFrom('sync:v1', 'phoenix', 'sync:v2'), fc.string({ maxLength: 8 }), weird),
    event: fc.oneof(
      fc.constantFrom(
        'phx_join',
        'sync:subscribe',
        'sync:unsubscribe',
        'sync:heartbeat',
        'phx_leave',
        'heartbeat',
        'other',
      ),
      weird,
    ),
    payload,
  })
  .map((f) => JSON.stringify([f.joinRef, f.ref, f.topic, f.event, f.payload]));

/** Subscriptions the lane accepts (replay, resume, stale cursor), so sessions reach replay and live reads. */
export const goodSubscribe = fc
  .record({
    ref: fc.nat({ max: 20 }),
    resume: fc.option(fc.integer({ min: -1, max: 320 }), { nil: undefined }),
    batch: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
  })
  .map(({ ref, resume, batch }) =>
    JSON.stringify([
      '1',
      String(ref),
      'sync:v1',
      'sync:subscribe',
      {
        topics: [RUNS],
        ...(resume !== undefined ? { resume_after: { [RUNS]: resume } } : {}),
        ...(batch !== undefined ? { replay_batch_size: batch } : {}),
      },
    ]),
  );

export const texts = fc.oneof(
  { weight: 2, arbitrary: goodSubscribe },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 3, arbitrary: frameText },
  { weight: 3, arbitrary: mutatedText(frameText) },
);
