/**
 * The exact export lists of the host's synthetic `spacetime:sys@2.x` modules
 * (host spec §1.2, `crates/core/src/host/v8/syscall/v2.rs::sys_v2_0` / `sys_v2_1`).
 * `register_hooks` is deliberately absent: 2.x hooks come from the default export.
 */
export const SYS_V2_0_EXPORTS = [
  'moduleHooks',
  'table_id_from_name',
  'index_id_from_name',
  'datastore_table_row_count',
  'datastore_table_scan_bsatn',
  'datastore_index_scan_range_bsatn',
  'row_iter_bsatn_advance',
  'row_iter_bsatn_close',
  'datastore_insert_bsatn',
  'datastore_update_bsatn',
  'datastore_delete_by_index_scan_range_bsatn',
  'datastore_delete_all_by_eq_bsatn',
  'volatile_nonatomic_schedule_immediate',
  'console_log',
  'console_timer_start',
  'console_timer_end',
  'identity',
  'get_jwt_payload',
  'procedure_http_request',
  'procedure_start_mut_tx',
  'procedure_abort_mut_tx',
  'procedure_commit_mut_tx',
  'datastore_index_scan_point_bsatn',
  'datastore_delete_by_index_scan_point_bsatn',
] as const;

export const SYS_V2_1_EXPORTS = ['datastore_clear'] as const;

export type SysV20Name = (typeof SYS_V2_0_EXPORTS)[number];
export type SysV21Name = (typeof SYS_V2_1_EXPORTS)[number];

/** Versions the host links, keyed by `MAJ.MIN` (`syscall/mod.rs::resolve_sys_module`). */
export const SYS_MODULES: Readonly<Record<string, readonly string[]>> = {
  '2.0': SYS_V2_0_EXPORTS,
  '2.1': SYS_V2_1_EXPORTS,
};

/** Name of the context global through which the bundle reaches the sys modules (see bundle.ts). */
export const SYS_GLOBAL = '__spacetime_sys__';
