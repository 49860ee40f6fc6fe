/**
 * `sorted-btree` is CommonJS with its class on `exports.default`; Node's ESM interop and Vite's differ
 * on whether `default` is unwrapped, so resolve the constructor once here.
 */

import type BTreeType from 'sorted-btree';
import * as sortedBtree from 'sorted-btree';

type BTreeCtor = typeof BTreeType;
const mod = sortedBtree as unknown as { default: BTreeCtor | { default: BTreeCtor } };
const candidate = mod.default;
export const BTree: BTreeCtor = typeof candidate === 'function' ? candidate : candidate.default;
export type BTree<K, V> = BTreeType<K, V>;
