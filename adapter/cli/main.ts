/**
 * Command dispatcher. Each command lives with the component it drives and is imported lazily, so
 * `spacetime-sync devhost` never loads kafkajs and `spacetime-sync start` never loads the CLI of the
 * desktop client.
 */
type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  start: {
    summary: 'run the sync service on embedded defaults (configure with env, see README)',
    load: async () => (await import('./start.ts')).runStart,
  },
  'dlq-replay': {
    summary:
      'replay dead-lettered envelopes into their source topic: [--reason <code> ...] [--to <topic>] [--dry-run]',
    load: async () => (await import('./dlq-replay.ts')).runDlqReplay,
  },
  status: {
    summary: 'status of a running service (exit 1 unless healthy): [--url <http://…>] [--json]',
    load: async () => (await import('./admin.ts')).runStatus,
  },
  head: {
    summary: "a stream's head, low watermark and epoch: <stream> [--url <http://…>] [--json]",
    load: async () => (await import('./admin.ts')).runHead,
  },
  lag: {
    summary: 'Kafka partition lag and per-stream sequence lag: [<stream> ...] [--max <n>] [--url] [--json]',
    load: async () => (await import('./admin.ts')).runLag,
  },
  grant: {
    summary: 'writer <identity> [--label L] | reader <identity> --stream S…  (as SPACETIMEDB_TOKEN)',
    load: async () => (await import('./grant.ts')).runGrant,
  },
  revoke: {
    summary: 'writer <identity> | reader <identity> --stream S…  (as SPACETIMEDB_TOKEN)',
    load: async () => (await import('./grant.ts')).runRevoke,
  },
  tail: {
    summary: 'print a stream as it arrives, resuming from --store: <stream> [--from <seq>] [--store <file>]',
    load: async () => (await import('../../client/cli.ts')).runTail,
  },
  devhost: {
    summary: 'run the SpacetimeDB-compatible dev host: --module <entry.ts> --name <db> [--port] [--data]',
    load: async () => (await import('../../devhost/cli.ts')).runDevhostCli,
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['usage: spacetime-sync <command> [options]', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`spacetime-sync: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest);
}
