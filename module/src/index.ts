/**
 * spacetime-sync's SpacetimeDB module: the canonical state of the sync lane. `spacetime publish`
 * bundles this file; devhost runs the same bundle. SpacetimeDB registers every named export as a
 * reducer, so only reducers are exported here — the schema is the default export.
 */

export { append_publisher_events, append_sync_event, append_sync_events } from './reducers/append.ts';
export {
  configure_bridge,
  enqueue_bridge_event,
  grant_bridge_worker,
  record_bridge_deliveries,
  retry_bridge_event,
  revoke_bridge_worker,
} from './reducers/bridge.ts';
export { ack_checkpoint } from './reducers/checkpoint.ts';
export {
  open_compute_assignment,
  publish_provider_capability,
  update_compute_assignment,
} from './reducers/compute.ts';
export {
  auto_rollback_cutover,
  grant_cutover_admin,
  hold_auto_rollback_cutover,
  move_cutover,
  revoke_cutover_admin,
} from './reducers/cutover.ts';
export { note_history_cut } from './reducers/history-cut.ts';
export { client_connected, client_disconnected, init, run_maintenance } from './reducers/lifecycle.ts';
export { upsert_presence } from './reducers/presence.ts';
export { set_source_policy } from './reducers/source-order.ts';
export {
  compact_stream,
  configure_stream,
  grant_stream_read,
  grant_writer,
  reset_stream,
  revoke_stream_read,
  revoke_writer,
} from './reducers/stream-admin.ts';
export { distrust_token_issuer, revoke_client_session, trust_token_issuer } from './reducers/tokens.ts';
export { default } from './schema.ts';
export {
  append_receipt_own,
  bridge_delivery_worker,
  bridge_outbox_worker,
  cutover_audit_writers,
  publisher_cursor_writers,
  session_presence_own,
  source_cursor_writers,
  sync_checkpoint_own,
  sync_event_live_readable,
  sync_event_live_token,
  sync_event_readable,
  sync_event_token,
  sync_stream_readable,
  sync_stream_token,
  sync_stream_writers,
  token_session_own,
} from './visibility.ts';
