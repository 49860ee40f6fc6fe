/**
 * TLS and SASL for the Kafka clients, from the environment. Secrets come from files only (a key, a
 * password), never from a variable's value or a command line, and are never logged; a bad setting
 * names its variable. The result is the `ssl`/`sasl` part of a kafkajs client configuration.
 */
import { readFileSync } from 'node:fs';
import type kafkajs from 'kafkajs';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

export interface KafkaSecurity {
  /** TLS to the brokers; `ca` replaces the system CAs, `cert`+`key` is a client certificate (mTLS). */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
}

type Env = Readonly<Record<string, string | undefined>>;
type Fail = (variable: string, message: string) => Error;

function file(env: Env, name: string, fail: Fail): string | undefined {
  const path = env[name]?.trim();
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw fail(name, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** `KAFKA_TLS`, `KAFKA_TLS_CA_FILE`, `KAFKA_TLS_CERT_FILE`, `KAFKA_TLS_KEY_FILE`, `KAFKA_SASL_*`. */
export function kafkaSecurity(env: Env, fail: Fail): KafkaSecurity {
  const tlsFlag = env.KAFKA_TLS?.trim();
  if (tlsFlag && !['0', '1', 'true', 'false'].includes(tlsFlag))
    throw fail('KAFKA_TLS', `'${tlsFlag}' is not 1/true or 0/false`);
  const ca = file(env, 'KAFKA_TLS_CA_FILE', fail);
  const cert = file(env, 'KAFKA_TLS_CERT_FILE', fail);
  const key = file(env, 'KAFKA_TLS_KEY_FILE', fail);
  if ((cert === undefined) !== (key === undefined))
    throw fail(
      cert === undefined ? 'KAFKA_TLS_CERT_FILE' : 'KAFKA_TLS_KEY_FILE',
      'a client certificate needs both KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE',
    );
  const tlsOn = tlsFlag === '1' || tlsFlag === 'true' || ca !== undefined || cert !== undefined;
  if (tlsOn && (tlsFlag === '0' || tlsFlag === 'false'))
    throw fail('KAFKA_TLS', 'is off, but TLS files are set');

  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  const username = env.KAFKA_SASL_USERNAME?.trim();
  if (env.KAFKA_SASL_PASSWORD !== undefined)
    throw fail('KAFKA_SASL_PASSWORD', 'secrets are read from files: set KAFKA_SASL_PASSWORD_FILE instead');
  const password = file(env, 'KAFKA_SASL_PASSWORD_FILE', fail)?.replace(/\r?\n$/, '');
  let sasl: KafkaSecurity['sasl'];
  if (mechanism) {
    if (!MECHANISMS.includes(mechanism as SaslMechanism))
      throw fail('KAFKA_SASL_MECHANISM', `'${mechanism}' is not one of ${MECHANISMS.join(', ')}`);
    if (!username) throw fail('KAFKA_SASL_USERNAME', `required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (password === undefined)
      throw fail('KAFKA_SASL_PASSWORD_FILE', `required with KAFKA_SASL_MECHANISM=${mechanism}`);
    sasl = { mechanism: mechanism as SaslMechanism, username, password };
  } else if (username || password !== undefined) {
    throw fail(
      'KAFKA_SASL_MECHANISM',
      'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD_FILE is set',
    );
  }
  return {
    ...(tlsOn
      ? {
          tls: {
            ...(ca !== undefined ? { ca } : {}),
            ...(cert !== undefined ? { cert } : {}),
            ...(key !== undefined ? { key } : {}),
          },
        }
      : {}),
    ...(sasl ? { sasl } : {}),
  };
}

/** The kafkajs client options for `security` (none: plaintext, no authentication). */
export function kafkaClientSecurity(
  security: KafkaSecurity | undefined,
): Pick<kafkajs.KafkaConfig, 'ssl' | 'sasl'> {
  if (!security) return {};
  const { tls, sasl } = security;
  return {
    ...(tls ? { ssl: Object.keys(tls).length > 0 ? { ...tls, rejectUnauthorized: true } : true } : {}),
    ...(sasl ? { sasl: { ...sasl } as kafkajs.SASLOptions } : {}),
  };
}

/** For logs and `status`: what is configured, without any secret. */
export function describeKafkaSecurity(security: KafkaSecurity | undefined): string {
  const parts = [security?.tls ? `tls${security.tls.cert ? ' (client certificate)' : ''}` : 'plaintext'];
  if (security?.sasl) parts.push(`sasl ${security.sasl.mechanism} as ${security.sasl.username}`);
  return parts.join(', ');
}
