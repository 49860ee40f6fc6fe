/**
 * `<dir>/meta.json`: the module schema hash the data was written with, plus the small metadata the host
 * stores once (database identity, owner). JSON so a person can read it; replaced atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DurabilityError } from './errors.js';
import { writeFileAtomicSync } from './fs-util.js';

const META_FILE = 'meta.json';
const META_FORMAT = 1;

export interface MetaFile {
  readonly schemaHash: string | undefined;
  readonly meta: Readonly<Record<string, string>>;
}

export function readMetaFile(dir: string): MetaFile | undefined {
  const path = `${dir}/${META_FILE}`;
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DurabilityError('corrupt', `${path} is not valid JSON`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new DurabilityError('corrupt', `${path} does not hold an object`);
  const { format, schemaHash, meta } = parsed as Record<string, unknown>;
  if (format !== META_FORMAT)
    throw new DurabilityError('corrupt', `${path} has unknown format ${String(format)}`);
  if (schemaHash !== undefined && typeof schemaHash !== 'string')
    throw new DurabilityError('corrupt', `${path}: schemaHash is not a string`);
  return { schemaHash, meta: stringRecord(meta, path) };
}

function stringRecord(value: unknown, path: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DurabilityError('corrupt', `${path}: meta is not an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new DurabilityError('corrupt', `${path}: meta.${k} is not a string`);
    out[k] = v;
  }
  return out;
}

export function writeMetaFile(dir: string, file: MetaFile): void {
  const json = JSON.stringify({ format: META_FORMAT, schemaHash: file.schemaHash, meta: file.meta }, null, 2);
  writeFileAtomicSync(dir, META_FILE, Buffer.from(`${json}\n`, 'utf8'));
}

export function schemaMismatch(dir: string, stored: string, current: string): DurabilityError {
  return new DurabilityError(
    'schema-mismatch',
    `${dir} holds data written by a module with schema hash ${stored}, but this module's schema hash is ` +
      `${current}. Use an empty data directory for this module (or delete ${dir} to start over).`,
  );
}
