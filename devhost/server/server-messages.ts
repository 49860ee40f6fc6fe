/**
 * Server messages encoded with the package's own wire types, so the bytes are whatever the SDK's
 * deserializer expects. One workaround: spacetimedb 2.10.1's `Result` serializer writes the `err` arm
 * with the `ok` type's serializer, so a failed `OneOffQueryResult` is written by hand.
 */
import { BinaryWriter, ConnectionId, Identity, TimeDuration, Timestamp } from 'spacetimedb';
import {
  type QueryRows,
  type QuerySetUpdate,
  ServerMessage,
  type SingleTableRows,
} from '../stdb-internal/client-api.js';

const SERVER_MESSAGE_TAG = { OneOffQueryResult: 5 } as const;

/** `sizeHint`: the bytes the message will take, roughly (saves the writer's regrow-and-copy steps). */
function encode(message: ServerMessage, sizeHint = 256): Uint8Array {
  const writer = new BinaryWriter(sizeHint);
  ServerMessage.serialize(writer, message);
  return writer.getBuffer();
}

export function initialConnection(identity: bigint, connectionId: bigint, token: string): Uint8Array {
  return encode({
    tag: 'InitialConnection',
    value: { identity: new Identity(identity), connectionId: new ConnectionId(connectionId), token },
  });
}

export function subscribeApplied(
  requestId: number,
  querySetId: number,
  tables: SingleTableRows[],
): Uint8Array {
  return encode({
    tag: 'SubscribeApplied',
    value: { requestId, querySetId: { id: querySetId }, rows: { tables } },
  });
}

export function unsubscribeApplied(
  requestId: number,
  querySetId: number,
  rows: QueryRows | undefined,
): Uint8Array {
  return encode({ tag: 'UnsubscribeApplied', value: { requestId, querySetId: { id: querySetId }, rows } });
}

export function subscriptionError(
  requestId: number | undefined,
  querySetId: number,
  error: string,
): Uint8Array {
  return encode({ tag: 'SubscriptionError', value: { requestId, querySetId: { id: querySetId }, error } });
}

export function transactionUpdate(querySets: QuerySetUpdate[]): Uint8Array {
  let rows = 0;
  for (const q of querySets)
    for (const t of q.tables)
      for (const r of t.rows)
        rows +=
          r.tag === 'EventTable'
            ? r.value.events.rowsData.length
            : r.value.inserts.rowsData.length + r.value.deletes.rowsData.length;
  return encode({ tag: 'TransactionUpdate', value: { querySets } }, rows + 256);
}

export function oneOffQueryResult(
  requestId: number,
  result: { ok: QueryRows } | { err: string },
): Uint8Array {
  if ('ok' in result) {
    // The package types a Result field as `Ok | Err`, but its serializer takes `{ ok } | { err }`.
    const value = result as unknown as QueryRows;
    return encode({ tag: 'OneOffQueryResult', value: { requestId, result: value } });
  }
  const writer = new BinaryWriter(64 + result.err.length * 3);
  writer.writeU8(SERVER_MESSAGE_TAG.OneOffQueryResult);
  writer.writeU32(requestId);
  writer.writeU8(1); // Result::Err
  writer.writeString(result.err);
  return writer.getBuffer();
}

export type ReducerResultOutcome =
  | { readonly kind: 'ok'; readonly querySets: QuerySetUpdate[] }
  /** The reducer threw a SenderError: its message, BSATN-encoded as a String. */
  | { readonly kind: 'err'; readonly message: string }
  | { readonly kind: 'internal'; readonly message: string };

export function reducerResult(
  requestId: number,
  timestamp: bigint,
  outcome: ReducerResultOutcome,
): Uint8Array {
  let result: Extract<ServerMessage, { tag: 'ReducerResult' }>['value']['result'];
  if (outcome.kind === 'ok') {
    // Reducers return nothing, so `retValue` is empty (SpacetimeDB's `unwrap_or_default()`).
    result = {
      tag: 'Ok',
      value: { retValue: new Uint8Array(0), transactionUpdate: { querySets: outcome.querySets } },
    };
  } else if (outcome.kind === 'err') {
    const w = new BinaryWriter(16 + outcome.message.length * 3);
    w.writeString(outcome.message);
    result = { tag: 'Err', value: w.getBuffer() };
  } else {
    result = { tag: 'InternalError', value: outcome.message };
  }
  return encode({ tag: 'ReducerResult', value: { requestId, timestamp: new Timestamp(timestamp), result } });
}

export function procedureInternalError(requestId: number, timestamp: bigint, message: string): Uint8Array {
  return encode({
    tag: 'ProcedureResult',
    value: {
      status: { tag: 'InternalError', value: message },
      timestamp: new Timestamp(timestamp),
      totalHostExecutionDuration: new TimeDuration(0n),
      requestId,
    },
  });
}
