/**
 * The Kafka source machine's specification (./lifecycle.ts): checked cell by cell against
 * `transition` by lifecycle.test.ts, rendered into adapter/STATE-MACHINE.md.
 */
import { type MachineSpec, type Outcome, specRow } from '../../shared/machine-spec.js';
import type { SourceState } from './lifecycle.js';

type Kind = SourceState['kind'];

export type SourceCase =
  | 'start'
  | 'started'
  | 'activity'
  | 'crash'
  | 'crash (kafkajs retries)'
  | 'restart'
  | 'stop'
  | 'stopped';

const KINDS: readonly Kind[] = [
  'idle',
  'starting',
  'running',
  'restarting',
  'crashed',
  'stopping',
  'stopped',
];

export const KAFKA_SOURCE_SPEC: MachineSpec<Kind, SourceCase> = {
  title: 'KafkaSource',
  intro:
    'The Kafka consumer’s lifecycle (`adapter/kafka/lifecycle.ts`, run by `kafka-source.ts`). The watchdog ' +
    '(`watchdog.ts`) asks for a `restart` when the consumer crashed for good or a batch ran past ' +
    '`KAFKA_WATCHDOG_MS` without committing. Events of a consumer that was replaced are dropped. `stop()` ' +
    'waits for a start or restart in flight, which sees the stop after its next await and disconnects what ' +
    'it started. `/readyz` needs `running`.',
  states: {
    idle: 'constructed',
    starting: 'the dead-letter producer and the first consumer are connecting',
    running: 'a consumer runs: `consuming`, `paused` by backpressure, `rebalancing` or `connecting`',
    restarting: 'the watchdog is replacing the consumer',
    crashed: 'kafkajs gave up on the consumer; the watchdog restarts it',
    stopping: '`stop()`: the batch in progress finishes and commits, consumer and producer disconnect',
    stopped: 'done',
  },
  events: {
    start: '`start()`',
    started: 'a consumer is connected, subscribed and running',
    activity: 'the consumer joined, is rebalancing, or backpressure paused or resumed it',
    crash: 'kafkajs reported a crash it will not restart',
    'crash (kafkajs retries)': 'kafkajs reported a crash and restarts the same consumer itself',
    restart: 'the watchdog: crashed, or no progress',
    stop: '`stop()`',
    stopped: 'consumer and producer are disconnected',
  },
  table: {
    start: row({ idle: 'starting' }),
    started: row({ starting: 'running', restarting: 'running' }),
    activity: row({ starting: 'starting', running: 'running', restarting: 'restarting' }),
    crash: row({ starting: 'crashed', running: 'crashed', restarting: 'crashed' }),
    'crash (kafkajs retries)': row({ starting: 'starting', running: 'running', restarting: 'restarting' }),
    restart: row({ running: 'restarting', crashed: 'restarting' }),
    stop: row({
      idle: 'stopped',
      starting: 'stopping',
      running: 'stopping',
      restarting: 'stopping',
      crashed: 'stopping',
    }),
    stopped: row({ stopping: 'stopped' }),
  },
};

function row(cells: Partial<Record<Kind, Kind>>): Record<Kind, Outcome<Kind>> {
  return specRow(KINDS, cells);
}
