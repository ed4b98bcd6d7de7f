import type { ClickHouseClient } from '@clickhouse/client';
import type { TableConfig } from '../config/index.js';
import { messageOf } from '../errors.js';
import { parseQualifiedName, quoteClickHouseQualified } from '../identifiers/index.js';
import { silentLogger, type Logger } from '../logger.js';
import { systemClock, type Clock } from '../clock.js';
import { ttlHeadroomSeconds, type TtlProbe } from './ttl-headroom.js';

export type TtlGuardAction = 'stop' | 'start';
/** What the guard last did to a table's TTL merges; `unknown` until it first acts (e.g. after a restart). */
export type TtlMergesState = 'stopped' | 'started' | 'unknown';

export interface TtlGuardBounds {
  /** Stop TTL merges when the headroom falls below this many seconds. */
  readonly criticalSeconds: number;
  /** Start them again once the headroom is back at or above this (the offload caught up). */
  readonly resumeSeconds: number;
}

/**
 * The guard's decision for one table. Stops below the critical bound; starts
 * only at or above the (higher) resume bound, so a headroom hovering around
 * the critical bound does not flap. A table without row TTL (`null`) needs
 * no action. With the state `unknown` a healthy table is started: the guard
 * owns the TTL merges of the tables it is enabled on, and a stop left by a
 * process that died must not last forever.
 */
export function ttlGuardDecision(state: TtlMergesState, headroomSeconds: number | null, bounds: TtlGuardBounds): TtlGuardAction | null {
  if (headroomSeconds !== null && headroomSeconds < bounds.criticalSeconds) return state === 'stopped' ? null : 'stop';
  // Without row TTL there is nothing to guard, unless this guard stopped the merges itself.
  const caughtUp = headroomSeconds === null ? state === 'stopped' : headroomSeconds >= bounds.resumeSeconds;
  return caughtUp && state !== 'started' ? 'start' : null;
}

/** One action the guard took or tried, for logs and `offload_ttl_guard_actions_total`. */
export interface TtlGuardEvent {
  readonly table: string;
  readonly action: TtlGuardAction;
  /** `done`, `refused` (the ClickHouse user lacks the grant) or `failed` (any other error). */
  readonly outcome: 'done' | 'refused' | 'failed';
  readonly headroomSeconds: number | null;
  readonly message: string;
}

/** A table the guard watches, with the bounds that apply to it. */
export interface GuardedTable {
  readonly table: TableConfig;
  readonly bounds: TtlGuardBounds;
}

export interface TtlGuardOptions {
  readonly client: Pick<ClickHouseClient, 'command'>;
  readonly tables: readonly GuardedTable[];
  /** The ClickHouse user, named in the grant a refusal asks for. */
  readonly username?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly onEvent?: (event: TtlGuardEvent) => void;
  /** Budget of one SYSTEM statement; default 10 s. */
  readonly timeoutMs?: number;
}

/** ClickHouse's ACCESS_DENIED. */
const ACCESS_DENIED = '497';

/**
 * `ttlGuard: stop-merges`: runs `SYSTEM STOP TTL MERGES` on a source whose
 * TTL headroom fell below the critical bound, so ClickHouse keeps rows not yet
 * in Iceberg past their TTL, and `SYSTEM START TTL MERGES` once the offload
 * caught up. Each action is logged and reported through `onEvent`.
 */
export class TtlGuard {
  readonly #options: TtlGuardOptions;
  readonly #logger: Logger;
  readonly #state = new Map<string, TtlMergesState>();
  /** The last refused action per table, not repeated until the decision changes. */
  readonly #refused = new Map<string, TtlGuardAction>();

  constructor(options: TtlGuardOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The guard's view of each guarded table's TTL merges. */
  state(table: string): TtlMergesState {
    return this.#state.get(table) ?? 'unknown';
  }

  /** Acts on fresh probes; returns what it did. */
  async apply(probes: readonly TtlProbe[]): Promise<readonly TtlGuardEvent[]> {
    const now = (this.#options.clock ?? systemClock).now();
    const byTable = new Map(probes.map((p) => [p.table, p]));
    const events: TtlGuardEvent[] = [];
    for (const { table, bounds } of this.#options.tables) {
      const probe = byTable.get(table.name);
      if (!probe) continue;
      const headroom = ttlHeadroomSeconds(probe, now);
      const action = ttlGuardDecision(this.state(table.name), headroom, bounds);
      if (action === null || this.#refused.get(table.name) === action) continue;
      this.#refused.delete(table.name);
      const event = await this.#act(table, action, headroom, bounds);
      events.push(event);
      this.#options.onEvent?.(event);
    }
    return events;
  }

  async #act(table: TableConfig, action: TtlGuardAction, headroom: number | null, bounds: TtlGuardBounds): Promise<TtlGuardEvent> {
    const target = quoteClickHouseQualified(parseQualifiedName(table.source));
    const verb = action === 'stop' ? 'STOP' : 'START';
    const seconds = headroom === null ? 'no TTL' : Number.isFinite(headroom) ? `${Math.round(headroom)}s` : 'nothing pending';
    const base = { table: table.name, action, headroomSeconds: headroom };
    try {
      await this.#options.client.command({
        query: `SYSTEM ${verb} TTL MERGES ${target}`,
        abort_signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const denied = (error as { code?: unknown }).code === ACCESS_DENIED;
      const user = this.#options.username ?? '<user>';
      const message = denied
        ? `TTL guard of ${table.name}: the ClickHouse user may not ${verb} TTL MERGES on ${table.source}; grant it with: GRANT SYSTEM TTL MERGES ON ${table.source} TO ${user}`
        : `TTL guard of ${table.name}: SYSTEM ${verb} TTL MERGES ${table.source} failed: ${messageOf(error)}`;
      this.#logger.error(message, { table: table.name, headroomSeconds: headroom });
      if (denied) this.#refused.set(table.name, action);
      return { ...base, outcome: denied ? 'refused' : 'failed', message };
    }
    this.#state.set(table.name, action === 'stop' ? 'stopped' : 'started');
    const message =
      action === 'stop'
        ? `TTL guard: stopped TTL merges on ${table.source}: headroom ${seconds} is below ${bounds.criticalSeconds}s, rows not yet in Iceberg would expire`
        : `TTL guard: started TTL merges on ${table.source}: headroom ${seconds}, the offload caught up`;
    (action === 'stop' ? this.#logger.warn : this.#logger.info).call(this.#logger, message, { table: table.name, headroomSeconds: headroom });
    return { ...base, outcome: 'done', message };
  }
}
