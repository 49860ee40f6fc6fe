/**
 * `spacetime-sync cutover status|advance|rollback|route`: the cutover controller over AdminService.
 * Moves run as the operator: the CLI sends the operator's SpacetimeDB token (`--token-file`, else
 * SPACETIMEDB_TOKEN, else the local owner token) in the `spacetime-sync-operator-token` header, and
 * the module checks that identity is a cutover admin. Exit codes: 0 done (status: the gates allow an
 * advance), 1 refused — failing gates, a transition the table does not have, not an admin, someone
 * moved it first — or status with failing gates, 2 usage, 3 unreachable.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { OPERATOR_TOKEN_HEADER } from '../../shared/operator-token.js';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { readLocalService } from '../local-service.js';
import { jsonOption, resolveServiceUrl, type UrlOptions, urlOption } from '../options.js';

const STAGES = ['legacy_only', 'shadow', 'canary', 'spacetime_primary', 'legacy_retired'] as const;

interface MoveOptions extends UrlOptions {
  to?: (typeof STAGES)[number];
  percent?: number;
  reason?: string;
  actor?: string;
  expectRevision?: bigint;
  tokenFile?: string;
  json?: boolean;
  overrideLegacyDown?: boolean;
}

function percentArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new InvalidArgumentError('a whole percentage 1-99');
  return n;
}

function revisionArg(v: string): bigint {
  if (!/^\d{1,19}$/.test(v)) throw new InvalidArgumentError('a revision number');
  return BigInt(v);
}

/** The operator's token: never from the command line. */
function operatorToken(opts: { tokenFile?: string }): string {
  if (opts.tokenFile) {
    let text: string;
    try {
      text = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new UsageError(
        `cannot read --token-file ${opts.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
    }
    if (!text) throw new UsageError(`--token-file ${opts.tokenFile} is empty`);
    return text;
  }
  const env = process.env.SPACETIMEDB_TOKEN?.trim();
  if (env) return env;
  const local = readLocalService()?.ownerToken;
  if (local) return local;
  throw new UsageError(
    'moving the cutover needs a cutover admin token: --token-file, SPACETIMEDB_TOKEN, or the local service',
  );
}

const stageName = (kind: string, percent: number) => (kind === 'canary' ? `canary(${percent}%)` : kind);

async function proto() {
  return import('../../proto/gen/spacetime_sync/v1/admin_service_pb.js');
}

async function status(opts: UrlOptions & { json?: boolean }): Promise<number> {
  const url = resolveServiceUrl(opts);
  const { toJsonString } = await import('@bufbuild/protobuf');
  const { AdminService, CutoverStage, GetCutoverStateResponseSchema } = await proto();
  const { calling, serviceClient } = await import('../service-client.js');
  const s = await calling(url, () => serviceClient(AdminService, url).getCutoverState({}));
  const name = (stage: number, percent: number) =>
    stageName(CutoverStage[stage]?.toLowerCase() ?? '?', percent);
  if (opts.json) console.log(toJsonString(GetCutoverStateResponseSchema, s, { prettySpaces: 2 }));
  else {
    const st = s.state;
    const since = st?.changedAt ? new Date(Number(st.changedAt.seconds) * 1000).toISOString() : '';
    const lines = [
      `stage     ${name(st?.stage ?? 0, st?.canaryPercent ?? 0)}  revision ${st?.revision ?? 0n}${st?.revision ? `  since ${since} by ${st.actor}: ${st.reason}` : ''}`,
      `advance   ${s.advanceAllowed ? 'allowed' : 'refused'} by the gates`,
      ...s.gates.map((g) => `  ${g.ok ? 'ok  ' : 'FAIL'} ${g.text}`),
    ];
    if (s.history.length > 0) lines.push('history (newest first)');
    for (const h of s.history) {
      const at = h.at ? new Date(Number(h.at.seconds) * 1000).toISOString() : '';
      lines.push(
        `  ${h.revision}  ${at}  ${h.automatic ? 'automatic ' : ''}${h.move}  ${name(h.from, h.fromPercent)} -> ${name(h.to, h.toPercent)}  ${h.actor}: ${h.reason}`,
      );
    }
    console.log(lines.join('\n'));
  }
  return s.advanceAllowed ? ExitCode.Ok : ExitCode.NotOk;
}

async function move(kind: 'advance' | 'rollback', opts: MoveOptions): Promise<number> {
  const url = resolveServiceUrl(opts);
  if (opts.percent !== undefined && opts.to !== undefined && opts.to !== 'canary') {
    throw new UsageError('--percent goes with --to canary (or no --to)');
  }
  const token = operatorToken(opts);
  const { toJsonString } = await import('@bufbuild/protobuf');
  const { AdminService, CutoverMoveSchema, CutoverStage } = await proto();
  const { calling, serviceClient } = await import('../service-client.js');
  const req = {
    ...(opts.to ? { to: CutoverStage[opts.to.toUpperCase() as keyof typeof CutoverStage] } : {}),
    ...(opts.percent !== undefined ? { percent: opts.percent } : {}),
    reason: opts.reason ?? `${kind} by ${opts.actor ?? userInfo().username}`,
    ...(kind === 'rollback' && opts.overrideLegacyDown ? { overrideLegacyDown: true } : {}),
    actor: opts.actor ?? userInfo().username,
    ...(opts.expectRevision !== undefined ? { expectedRevision: opts.expectRevision } : {}),
  };
  const callOptions = { headers: { [OPERATOR_TOKEN_HEADER]: token } };
  const client = serviceClient(AdminService, url);
  const r = await calling(url, async () =>
    kind === 'advance'
      ? (await client.advanceCutover(req, callOptions)).move
      : (await client.rollbackCutover(req, callOptions)).move,
  );
  if (!r) throw new Error('the service answered without the move');
  if (opts.json) console.log(toJsonString(CutoverMoveSchema, r, { prettySpaces: 2 }));
  else {
    const name = (s: typeof r.state) =>
      stageName(CutoverStage[s?.stage ?? 0]?.toLowerCase() ?? '?', s?.canaryPercent ?? 0);
    console.log(`${kind}: ${name(r.previous)} -> ${name(r.state)} (revision ${r.state?.revision ?? 0n})`);
  }
  return ExitCode.Ok;
}

async function route(clientId: string, opts: UrlOptions & { json?: boolean }): Promise<number> {
  const url = resolveServiceUrl(opts);
  const { toJsonString } = await import('@bufbuild/protobuf');
  const { AdminService, CutoverLane, RouteClientResponseSchema } = await proto();
  const { calling, serviceClient } = await import('../service-client.js');
  const r = await calling(url, () => serviceClient(AdminService, url).routeClient({ clientId }));
  console.log(
    opts.json
      ? toJsonString(RouteClientResponseSchema, r, { prettySpaces: 2 })
      : `${clientId}: ${CutoverLane[r.lane]?.toLowerCase()} (bucket ${r.bucket}, revision ${r.revision})`,
  );
  return ExitCode.Ok;
}

function moveOptions(cmd: Command, reasonRequired: boolean): Command {
  return cmd
    .addOption(new Option('--to <stage>', 'target stage').choices(STAGES))
    .addOption(new Option('--percent <n>', 'canary percentage, 1-99').argParser(percentArg))
    .addOption(
      reasonRequired
        ? new Option('--reason <text>', 'why (recorded in the audit trail)').makeOptionMandatory()
        : new Option('--reason <text>', 'why (recorded in the audit trail)'),
    )
    .addOption(new Option('--actor <name>', 'who asks (default: your user name)'))
    .addOption(
      new Option('--expect-revision <n>', 'refuse unless the cutover is still at this revision').argParser(
        revisionArg,
      ),
    )
    .addOption(
      new Option(
        '--token-file <file>',
        "file holding a cutover admin's SpacetimeDB token (else SPACETIMEDB_TOKEN, else the local owner token)",
      ),
    )
    .addOption(urlOption())
    .addOption(jsonOption());
}

export function register(program: Command): void {
  const cutover = program
    .command('cutover')
    .description('the cutover from the legacy lane: status, advance, rollback, and which lane a client uses');
  cutover
    .command('status')
    .description('stage, gates and recent moves (exit 0 when the gates allow an advance, 1 when not)')
    .addOption(urlOption())
    .addOption(jsonOption())
    .action(action(status));
  moveOptions(
    cutover
      .command('advance')
      .description(
        'move one stage forward (or --to; --percent grows a canary); refused with the failing gates (exit 1)',
      ),
    false,
  ).action(action((opts: MoveOptions) => move('advance', opts)));
  moveOptions(
    cutover
      .command('rollback')
      .description(
        'move back (default: clients back on the legacy lane, i.e. shadow); no gate is checked; refused (exit 1, UNAVAILABLE naming the lane state) while the service sees the legacy lane down, unless --override-legacy-down',
      ),
    true,
  )
    .addOption(
      new Option(
        '--override-legacy-down',
        'roll back even though the service sees the legacy lane down (clients wait on it until it is back)',
      ),
    )
    .action(action((opts: MoveOptions) => move('rollback', opts)));
  cutover
    .command('route')
    .description('which lane a client (device or user id) uses now')
    .argument('<client-id>', 'device id or user id')
    .addOption(urlOption())
    .addOption(jsonOption())
    .action(action(route));
}
