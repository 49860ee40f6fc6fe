/**
 * Client connect and disconnect as transactions (host spec §2.8): connecting inserts the `st_client`
 * row and runs `client_connected` in the same transaction (the connection is refused when it throws);
 * disconnecting runs `client_disconnected` and deletes the row, and deletes the row alone when the
 * reducer fails. The JWT payload of a connection is held for `ctx.senderAuth` while it is connected.
 */
import type { Caller } from '../contract.js';
import type { HostModuleSchema } from '../schema/index.js';
import { callerOfStClientRow, oneRowArray, ST_CLIENT_ID, stClientRow } from './st-client.js';
import type { LogLevel } from './sys-abi.js';
import type { TxEngine } from './transaction.js';
import type { TxClock } from './tx-clock.js';

const NO_ARGS = new Uint8Array(0);

export const callerKey = (c: Caller): string => `${c.identity.toString(16)}/${c.connectionId.toString(16)}`;

export class ClientLifecycle {
  /** By (identity, connection id), as SpacetimeDB keys clients: a connection id alone is chosen by the client. */
  private readonly jwtPayloads = new Map<string, string>();

  constructor(
    private readonly schema: HostModuleSchema,
    private readonly engine: TxEngine,
    private readonly clock: TxClock,
    private readonly log: (level: LogLevel, message: string) => void,
  ) {}

  jwtPayload(caller: Caller): string | undefined {
    return this.jwtPayloads.get(callerKey(caller));
  }

  /** Clients still in `st_client`: connected when the last process died. */
  leftovers(): Caller[] {
    return [...this.engine.store.committedRows(ST_CLIENT_ID)].map(callerOfStClientRow);
  }

  /** Runs in a transaction of its own; false when `client_connected` refused the client. */
  connect(caller: Caller, jwtPayload?: string): boolean {
    const { store, run, commits } = this.engine;
    if (jwtPayload !== undefined) this.jwtPayloads.set(callerKey(caller), jwtPayload);
    const onConnect = this.schema.lifecycle.get('clientConnected');
    store.begin();
    store.insert(ST_CLIENT_ID, stClientRow(caller));
    if (onConnect) {
      const result = run({ reducer: onConnect, caller, timestamp: this.clock(), args: NO_ARGS });
      if (!result.ok) {
        store.rollback();
        this.jwtPayloads.delete(callerKey(caller));
        return false;
      }
    }
    commits.commit(this.clock(), undefined, onConnect ? { name: onConnect.name, args: NO_ARGS } : undefined);
    return true;
  }

  /** Runs in a transaction of its own; the client's row goes whatever `client_disconnected` does. */
  disconnect(caller: Caller): void {
    const { store, run, commits } = this.engine;
    const onDisconnect = this.schema.lifecycle.get('clientDisconnected');
    const deleteClient = () => store.deleteAllByEq(ST_CLIENT_ID, oneRowArray(stClientRow(caller)));
    let ran: { name: string; args: Uint8Array } | undefined;
    if (onDisconnect) {
      store.begin();
      const result = run({ reducer: onDisconnect, caller, timestamp: this.clock(), args: NO_ARGS });
      if (result.ok) ran = { name: onDisconnect.name, args: NO_ARGS };
      else {
        store.rollback();
        this.log('warn', `client_disconnected failed: ${result.message}`);
      }
    }
    if (!ran) store.begin();
    deleteClient();
    commits.commit(this.clock(), undefined, ran);
    this.jwtPayloads.delete(callerKey(caller));
  }
}
