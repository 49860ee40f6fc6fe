/** The chaos report as the README's "Faults survived" table (markdown) and as JSON. */
import { FAULT_KINDS, type FaultKind } from './faults.js';
import type { ChaosReport } from './runner.js';

const LABEL: Record<FaultKind, string> = {
  adapter_kill: 'kill -9 of one adapter of 3 in the group, restarted',
  devhost_crash: 'kill -9 of devhost (data dir), restarted; half of them with a torn last record',
  broker_restart: 'Kafka broker restart (data kept)',
  broker_unreachable: 'Kafka broker unreachable (frozen 2–8 s)',
  net_adapter: 'network fault adapter → SpacetimeDB (delay / drop / reset / black hole, 1–5 s)',
  net_client: 'network fault clients → SpacetimeDB (delay / drop / reset / black hole, 1–5 s)',
  client_kill: 'kill -9 of one desktop client, restarted from its cursor store',
  mass_reconnect: 'every desktop client killed and restarted at once',
  disk_full: "devhost's disk full (its tmpfs shrunk to what it uses) for 3–9 s, then space back",
  legacy_crash: 'kill -9 of the legacy lane (journal kept), restarted',
  legacy_net: 'legacy client socket dropped / reset / black-holed 1–5 s',
  adapter_storm:
    'adapter kill storm: steps of kill -9 of one, two or all 3 adapters mid-batch, restarted at once (recovery per kill: until every stream progresses)',
  client_storm:
    'client kill storm: steps of kill -9 of 1–4 desktop clients (all of them in about a quarter), restarted at once from their cursor stores',
  offline_truncate:
    'clients stopped, history truncated past them (retention) or the epoch moved (reset), clients restarted',
};

export function renderTable(r: ChaosReport, meta: { date: string; commit: string }): string {
  const rows = FAULT_KINDS.map(
    (k) => `| ${LABEL[k]} | ${r.faults[k].rounds} | ${(r.faults[k].maxRecoveryMs / 1000).toFixed(1)} s |`,
  );
  const c = r.counts;
  const k = r.kills;
  const t = r.targets;
  const of = (n: number, target: number | undefined) =>
    target === undefined ? `${n}` : `${n} (target ${target})`;
  return [
    `Run of ${meta.date}, commit ${meta.commit}, seed ${r.seed}: ${r.rounds} rounds in ${r.minutes.toFixed(0)} min.`,
    '',
    '| fault | rounds | max recovery |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '| events | count |',
    '| --- | --- |',
    `| published by the authority | ${r.published} |`,
    `| stored in SpacetimeDB (heads; ${r.retired} of them truncated on purpose since) | ${r.stored} |`,
    `| applied by desktop clients (all journals) | ${r.clientEventsApplied} |`,
    `| adapter kills (adapter_kill + adapter_storm) | ${of(k.adapterKills, t?.adapterKills)} |`,
    `| devhost crash-restarts | ${of(k.devhostCrashes, t?.devhostCrashes)} |`,
    `| Kafka broker restarts | ${of(k.brokerRestarts, t?.brokerRestarts)} |`,
    `| desktop client kills (incl. storms, mass restarts, offline_truncate) | ${of(k.clientKills, t?.clientKills)} |`,
    `| lost | ${c.lost} |`,
    `| duplicated (stored twice / applied twice by a client) | ${c.duplicate_stored} / ${c.client_duplicate} |`,
    `| gaps (stored seqs / client seqs) | ${c.gap} / ${c.client_gap} |`,
    `| truncated clients that did not rebootstrap (missed / stored off its authority seq) | ${c.missed_rebootstrap} / ${c.seq_mismatch} |`,
    `| events compared with the legacy lane / divergences (parity harness) | ${r.parityCompared} / ${c.parity_divergence} |`,
    `| clients that saw the server go back below what they had applied (server_behind rebootstraps) | ${c.server_behind} |`,
    `| other violations (unexpected, payload mismatch, client mismatch, watermark past head) | ${c.unexpected + c.payload_mismatch + c.client_mismatch + c.watermark_beyond_head} |`,
    `| faults not recovered from within 180 s, clients that never caught up | ${r.failures.length} |`,
  ].join('\n');
}

export function reportJson(r: ChaosReport, meta: { date: string; commit: string }): string {
  return `${JSON.stringify({ ...r, ...meta }, null, 2)}\n`;
}
