/**
 * One validated configuration per service. Each service declares its settings
 * as a table of readers; `loadConfig` reads them all from the environment and,
 * if any is bad, throws one error that names every bad key and why.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Record<string, string | undefined>;

/** Reads one setting: returns its value or throws an Error whose message says why it is bad. */
export interface Setting<T> {
  key: string;
  read(raw: string | undefined): T;
}

export type Spec = Record<string, Setting<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export function loadConfig<S extends Spec>(service: string, spec: S, env: Env = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(spec)) {
    const raw = env[setting.key];
    try {
      out[name] = setting.read(raw === '' ? undefined : raw);
    } catch (err) {
      problems.push(`${setting.key}: ${(err as Error).message}${raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`}`);
    }
  }
  if (problems.length) throw new ConfigError(service, problems);
  return out as ConfigOf<S>;
}

function setting<T>(key: string, fallback: T | undefined, parse: (raw: string) => T): Setting<T> {
  return {
    key,
    read(raw) {
      if (raw === undefined) {
        if (fallback === undefined) throw new Error('is required');
        return fallback;
      }
      return parse(raw.trim());
    },
  };
}

export const env = {
  string(key: string, fallback?: string): Setting<string> {
    return setting(key, fallback, (raw) => raw);
  },
  /** A setting that may be absent. */
  optional(key: string): Setting<string | undefined> {
    return { key, read: (raw) => raw?.trim() || undefined };
  },
  int(key: string, fallback?: number, range: { min?: number; max?: number } = {}): Setting<number> {
    return setting(key, fallback, (raw) => {
      if (!/^-?\d+$/.test(raw)) throw new Error('must be an integer');
      const n = Number(raw);
      if (range.min !== undefined && n < range.min) throw new Error(`must be at least ${range.min}`);
      if (range.max !== undefined && n > range.max) throw new Error(`must be at most ${range.max}`);
      return n;
    });
  },
  number(key: string, fallback?: number, range: { min?: number; max?: number } = {}): Setting<number> {
    return setting(key, fallback, (raw) => {
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n)) throw new Error('must be a number');
      if (range.min !== undefined && n < range.min) throw new Error(`must be at least ${range.min}`);
      if (range.max !== undefined && n > range.max) throw new Error(`must be at most ${range.max}`);
      return n;
    });
  },
  port(key: string, fallback?: number): Setting<number> {
    return env.int(key, fallback, { min: 0, max: 65535 });
  },
  bool(key: string, fallback?: boolean): Setting<boolean> {
    return setting(key, fallback, (raw) => {
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error('must be true or false');
    });
  },
  url(key: string, fallback?: string, protocols?: string[]): Setting<string> {
    return setting(key, fallback, (raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error('must be a URL');
      }
      if (protocols && !protocols.includes(url.protocol.replace(/:$/, ''))) throw new Error(`must be a ${protocols.join(' or ')} URL`);
      return raw;
    });
  },
  oneOf<T extends string>(key: string, values: readonly T[], fallback?: T): Setting<T> {
    return setting(key, fallback, (raw) => {
      if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}`);
      return raw as T;
    });
  },
  /** host:port, as gRPC targets are written. */
  address(key: string, fallback?: string): Setting<string> {
    return setting(key, fallback, (raw) => {
      if (!/^[\w.-]+:\d{1,5}$|^\[[\da-f:]+\]:\d{1,5}$|^unix:/i.test(raw)) throw new Error('must be host:port');
      return raw;
    });
  },
};

/** Byte sizes written as 50MB, 512KiB or a plain number of bytes. */
export function parseBytes(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(raw.trim());
  if (!m) throw new Error('must be a size such as 50MB');
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  return Math.round(Number(m[1]) * mult[unit]);
}

export function bytes(key: string, fallback?: number): Setting<number> {
  return setting(key, fallback, parseBytes);
}
