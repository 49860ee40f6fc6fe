/**
 * The authorities' order, per (stream, authority topic): the newest authority seq appended, the gaps
 * an authority left (so a late event, e.g. a dead-letter replay, can still fill its place), and the
 * policy bounding how far one event may jump ahead. Only the append reducer reads the first two, so
 * they are private; the policy is public configuration (one number, nothing about any stream).
 */
import { t, table } from 'spacetimedb/server';

/** Newest authority seq appended per (stream, authority topic). */
export const stream_source = table(
  {
    name: 'stream_source',
    public: false,
    indexes: [{ accessor: 'by_stream_topic', algorithm: 'btree', columns: ['stream_id', 'authority_topic'] }],
  },
  {
    source_id: t.u64().primaryKey().autoInc(),
    stream_id: t.string(),
    authority_topic: t.string(),
    last_seq: t.u64(),
  },
);

/**
 * Authority seqs skipped by a forward step and not filled since, as [from_seq, to_seq]. At most
 * `MAX_OPEN_GAPS` per (stream, topic) are kept (the oldest is forgotten first): a late event whose
 * gap was forgotten is refused as a regression, loudly, never appended or dropped silently.
 */
export const source_gap = table(
  {
    name: 'source_gap',
    public: false,
    indexes: [{ accessor: 'by_stream_topic', algorithm: 'btree', columns: ['stream_id', 'authority_topic'] }],
  },
  {
    gap_id: t.u64().primaryKey().autoInc(),
    stream_id: t.string(),
    authority_topic: t.string(),
    from_seq: t.u64(),
    to_seq: t.u64(),
  },
);

/** One row (policy_id 0) once a writer set it; `DEFAULT_MAX_FORWARD_JUMP` applies until then. */
export const source_policy = table(
  { name: 'source_policy', public: true },
  {
    policy_id: t.u32().primaryKey(),
    /** The largest step forward one event's authority seq may make over its topic's newest on a stream. */
    max_forward_jump: t.u64(),
    updated_at: t.timestamp(),
  },
);
