/**
 * Ids for user objects. System tables, indexes, sequences and constraints take the reserved range; user
 * ids start at `ST_RESERVED_SEQUENCE_RANGE + 1` = 4097 (`crates/datastore/src/system_tables.rs`), and
 * tables are created in lexicographic order of their names (host spec §1.7).
 */
export const FIRST_USER_ID = 4097;
