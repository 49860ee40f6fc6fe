/**
 * Row-level-security rules compiled once per (schema, sender) and shared by that identity's
 * connections: compiling every rule again for each connection was about a third of devhost's work
 * per connection (bench/results/profile-2026-12-01-recover.md). SpacetimeDB likewise keeps a
 * subscription's compiled plan (row-level security inlined) keyed by its text and, when it depends
 * on the caller, the caller's identity. Only the compiled rules are shared — immutable filters with
 * `:sender` bound and the parsed grant joins; each connection still reads its grants itself
 * (`compileVisibility`). A rule that does not compile is not kept (it throws each time). Bounded:
 * the least recently connected identity's rules go first.
 */
import { LRUCache } from 'lru-cache';
import type { ModuleSchema } from '../contract.js';
import { compileRules, type SenderRules } from './compile.js';

/** Identities whose compiled rules are kept per schema unless told otherwise. */
export const DEFAULT_RULE_CACHE_SENDERS = 4096;

export class RuleCache {
  private readonly bySchema = new WeakMap<ModuleSchema, LRUCache<bigint, SenderRules>>();

  constructor(private readonly maxSenders = DEFAULT_RULE_CACHE_SENDERS) {}

  /** `sender`'s compiled rules of `schema` (what `compileVisibility` takes as `rules`). */
  readonly rulesFor = (schema: ModuleSchema, sender: bigint): SenderRules => {
    let senders = this.bySchema.get(schema);
    if (!senders) {
      senders = new LRUCache({ max: this.maxSenders });
      this.bySchema.set(schema, senders);
    }
    let rules = senders.get(sender);
    if (!rules) {
      rules = compileRules(schema, sender);
      senders.set(sender, rules);
    }
    return rules;
  };

  /** How many identities' rules of `schema` are kept. */
  size(schema: ModuleSchema): number {
    return this.bySchema.get(schema)?.size ?? 0;
  }
}
