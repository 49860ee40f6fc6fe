/**
 * Drift check against the official generator: bindings that this project's generator writes for
 * equivalents of two SpacetimeDB modules whose `spacetime generate --lang typescript` output is
 * checked into SpacetimeDB's repository (v2.8.3) must have that output's structure — files, table
 * handles and canonical names, row fields and their wire names, primary keys, indexes, unique
 * constraints, reducer handles, wire names and arguments, named types, visibility. The expectations
 * below are read off those official files and written down here; the bindings are the committed ones
 * (`npm run bindings` keeps them current), imported as a client would.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as caseConversion from '../testdata/official/case-conversion/bindings/index.js';
import * as caseConversionTypes from '../testdata/official/case-conversion/bindings/types.js';
import * as chat from '../testdata/official/chat/bindings/index.js';
import * as chatTypes from '../testdata/official/chat/bindings/types.js';
import { renderBindings } from './write-bindings.js';

interface ExpectedTable {
  /** Canonical name. */
  readonly name: string;
  /** Row field → wire (column) name. */
  readonly fields: Record<string, string>;
  readonly primaryKey: string;
  /** [accessor, canonical name, columns]. */
  readonly indexes: [string, string, string[]][];
  /** [name, columns]. */
  readonly constraints: [string, string[]][];
}

interface Expected {
  readonly dir: string;
  readonly files: string[];
  readonly tables: Record<string, ExpectedTable>;
  /** Reducer handle → [wire name, argument names]. */
  readonly reducers: Record<string, [string, string[]]>;
  readonly types: string[];
}

/** templates/chat-react-ts/src/module_bindings. */
const CHAT: Expected = {
  dir: 'devhost/testdata/official/chat/bindings',
  files: [
    'index.ts',
    'message_table.ts',
    'send_message_reducer.ts',
    'set_name_reducer.ts',
    'types.ts',
    'types/procedures.ts',
    'types/reducers.ts',
    'user_table.ts',
  ],
  tables: {
    message: {
      name: 'message',
      fields: { sender: 'sender', sent: 'sent', text: 'text' },
      primaryKey: '',
      indexes: [],
      constraints: [],
    },
    user: {
      name: 'user',
      fields: { identity: 'identity', name: 'name', online: 'online' },
      primaryKey: 'identity',
      indexes: [['identity', 'user_identity_idx_btree', ['identity']]],
      constraints: [['user_identity_key', ['identity']]],
    },
  },
  reducers: { sendMessage: ['send_message', ['text']], setName: ['set_name', ['name']] },
  types: ['Message', 'User'],
};

/** crates/bindings-typescript/case-conversion-test-client/src/module_bindings, less the view. */
const CASE_CONVERSION: Expected = {
  dir: 'devhost/testdata/official/case-conversion/bindings',
  files: [
    'add_person_2_reducer.ts',
    'ban_player_1_reducer.ts',
    'create_player_1_reducer.ts',
    'index.ts',
    'person_2_table.ts',
    'player_1_table.ts',
    'types.ts',
    'types/procedures.ts',
    'types/reducers.ts',
  ],
  tables: {
    person2: {
      name: 'person_2',
      fields: {
        person2Id: 'person_2_id',
        firstName: 'first_name',
        playerRef: 'player_ref',
        personInfo: 'person_info',
      },
      primaryKey: 'person2Id',
      indexes: [
        ['Person2Id', 'person_2_person_2_id_idx_btree', ['person2Id']],
        ['playerRef', 'person_2_player_ref_idx_btree', ['playerRef']],
      ],
      constraints: [['person_2_person_2_id_key', ['person2Id']]],
    },
    player1: {
      name: 'Player1Canonical',
      fields: {
        player1Id: 'player_1_id',
        playerName: 'player_name',
        currentLevel2: 'current_level_2',
        status3Field: 'status_3_field',
      },
      primaryKey: 'player1Id',
      indexes: [['Player1Id', 'Player1Canonical_player_1_id_idx_btree', ['player1Id']]],
      constraints: [['Player1Canonical_player_1_id_key', ['player1Id']]],
    },
  },
  reducers: {
    addPerson2: ['add_person_2', ['first3Name', 'playerRef', 'ageValue', 'scoreTotal']],
    banPlayer1: ['banPlayer1', ['player1Id', 'banUntil6']],
    createPlayer1: ['create_player_1', ['player1Name', 'start2Level']],
  },
  types: ['Person2', 'Person3Info', 'Player1', 'Player2Status'],
};

interface ColumnLike {
  readonly columnMetadata: { readonly name?: string; readonly isPrimaryKey?: boolean };
}
interface TableDefLike {
  readonly sourceName: string;
  readonly columns: Record<string, ColumnLike>;
  readonly indexes: readonly { accessor: string; name?: string; columns: readonly string[] }[];
  readonly constraints: readonly { name: string | undefined; columns: readonly string[] }[];
}

const cases = [
  { label: 'chat-react-ts template', expected: CHAT, bindings: chat, types: chatTypes },
  {
    label: 'case-conversion test module',
    expected: CASE_CONVERSION,
    bindings: caseConversion,
    types: caseConversionTypes,
  },
];

describe.each(cases)(
  'bindings for the $label have the official structure',
  ({ expected, bindings, types }) => {
    const tables = bindings.tables as unknown as Record<string, { tableDef: TableDefLike }>;

    it('has the official files', () => {
      const files = readdirSync(expected.dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) =>
          `${e.parentPath.slice(expected.dir.length + 1)}${e.parentPath === expected.dir ? '' : '/'}${e.name}`.replace(
            /^\//,
            '',
          ),
        )
        .sort();
      expect(files).toEqual(expected.files);
    });

    it('has the official table handles, canonical names, fields with wire names, keys, indexes and constraints', () => {
      expect(Object.keys(tables).sort()).toEqual(Object.keys(expected.tables).sort());
      for (const [handle, want] of Object.entries(expected.tables)) {
        const def = tables[handle]?.tableDef as TableDefLike;
        expect(def.sourceName, handle).toBe(want.name);
        const fields = Object.entries(def.columns);
        expect(Object.fromEntries(fields.map(([k, c]) => [k, c.columnMetadata.name ?? k])), handle).toEqual(
          want.fields,
        );
        expect(
          fields
            .filter(([, c]) => c.columnMetadata.isPrimaryKey)
            .map(([k]) => k)
            .join(),
          handle,
        ).toBe(want.primaryKey);
        expect(
          def.indexes.map((i) => [i.accessor, i.name, [...i.columns]]),
          handle,
        ).toEqual(want.indexes);
        // The SDK adds an unnamed constraint of its own for a `.primaryKey()` column; the named ones are
        // those the bindings declare.
        const declared = def.constraints.filter((c) => c.name !== undefined);
        expect(
          declared.map((c) => [c.name, [...c.columns]]),
          handle,
        ).toEqual(want.constraints);
      }
    });

    it('has the official reducer handles, wire names and argument names, and no lifecycle reducer', () => {
      const reducers = bindings.reducers as unknown as Record<
        string,
        { name: string; params: Record<string, unknown> }
      >;
      expect(Object.keys(reducers).sort()).toEqual(Object.keys(expected.reducers).sort());
      for (const [handle, [name, args]] of Object.entries(expected.reducers)) {
        expect(reducers[handle]?.name).toBe(name);
        expect(Object.keys(reducers[handle]?.params ?? {})).toEqual(args);
      }
    });

    it('declares the official named types', () => {
      expect(Object.keys(types).sort()).toEqual(expected.types);
    });
  },
);

describe('case conversion reaches the wire', () => {
  it('a query on a camelCase field of a renamed table is SQL on the canonical names', () => {
    const sql = caseConversion.tables.player1.where((r) => r.currentLevel2.eq(2)).toSql();
    expect(sql).toContain('"Player1Canonical"');
    expect(sql).toContain('"current_level_2"');
    expect(sql).not.toContain('currentLevel2');
  });

  it('enum variants and struct fields of named types are as the official types.ts has them', () => {
    const variants = caseConversionTypes.Player2Status.algebraicType;
    expect(variants.tag === 'Sum' && variants.value.variants.map((v) => v.name)).toEqual([
      'Active1',
      'BannedUntil',
    ]);
    const info = caseConversionTypes.Person3Info.algebraicType;
    expect(info.tag === 'Product' && info.value.elements.map((e) => e.name)).toEqual([
      'ageValue1',
      'scoreTotal',
    ]);
  });
});

describe('visibility, as the official codegen decides it', () => {
  it('by default leaves out lifecycle reducers; --include-private adds argument files for connect/disconnect, never init, and no handles', async () => {
    const entry = 'devhost/testdata/official/chat/index.ts';
    const pub = (await renderBindings(entry, 'public')).map((f) => f.path);
    const all = await renderBindings(entry, 'includePrivate');
    expect(pub).toEqual(expect.arrayContaining(CHAT.files));
    expect(pub).toHaveLength(CHAT.files.length);
    expect(
      all
        .map((f) => f.path)
        .filter((p) => !pub.includes(p))
        .sort(),
    ).toEqual(['on_connect_reducer.ts', 'on_disconnect_reducer.ts']);
    const index = all.find((f) => f.path === 'index.ts')?.code ?? '';
    expect(index).not.toMatch(/on_connect|on_disconnect|init_reducer/);
  });
});
