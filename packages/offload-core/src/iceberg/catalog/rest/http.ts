import { OffloadError } from '../../../errors.js';
import { parseJson, stringifyJson, type JsonValue } from '../../spec/json.js';
import type { RestAuth } from './auth.js';
import { errorForNetwork, errorForStatus, type RestErrorBody, type RestRoute } from './errors.js';

export interface RestTransportOptions {
  /** The catalog's base URI, without `/v1`. */
  readonly uri: string;
  readonly auth: RestAuth;
  /** Per request, including reading the response. */
  readonly timeoutMs: number;
  /** Re-sends of a request that may safely be repeated (not a commit, see below). Default 3. */
  readonly retries?: number;
  /** First backoff; doubles per retry, capped at 30 s. Default 200 ms. */
  readonly minWaitMs?: number;
  /** Injected for tests; defaults to the global fetch (undici). */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RestRequest {
  readonly route: RestRoute;
  readonly method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** Path after the base URI (`/v1/...`), already encoded. */
  readonly path: string;
  readonly body?: unknown;
  /** Names the table in errors and selects table-specific mappings. */
  readonly table?: string;
  /** Sent as `Idempotency-Key` on every try of this request. */
  readonly idempotencyKey?: string;
}

const MAX_WAIT_MS = 30_000;

/**
 * HTTP for the REST catalog on Node's fetch, with Iceberg's 64-bit-exact
 * JSON both ways (ids above 2^53 stay bigint). Retries follow Iceberg Java:
 * reads and creates are retried on 429, 5xx and network errors with
 * backoff; a commit is re-sent only when the catalog said it did not
 * process it (429, or 503 with `Retry-After`), with the same
 * `Idempotency-Key`, and any other failure after sending it is mapped to
 * an unknown outcome by {@link errorForStatus} / {@link errorForNetwork}.
 */
export class RestTransport {
  readonly #options: RestTransportOptions;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: RestTransportOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The parsed JSON body (undefined when empty); throws typed errors. */
  async send(request: RestRequest): Promise<JsonValue | undefined> {
    const retries = this.#options.retries ?? 3;
    let reauthenticated = false;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#try(request);
      if (outcome.ok) return outcome.value;
      if (outcome.status === 401 && !reauthenticated) {
        // An expired token: nothing was processed, so even a commit may be re-sent once.
        reauthenticated = true;
        this.#options.auth.invalidate();
        continue;
      }
      const wait = this.#retryWait(request, outcome, attempt, retries);
      if (wait === undefined) throw outcome.error;
      await this.#sleep(wait);
    }
  }

  #retryWait(request: RestRequest, outcome: Failure, attempt: number, retries: number): number | undefined {
    if (attempt >= retries) return undefined;
    const backoff = Math.min(MAX_WAIT_MS, (this.#options.minWaitMs ?? 200) * 2 ** attempt);
    const after = outcome.retryAfterMs;
    if (request.route === 'commit') {
      const unprocessed = outcome.status === 429 || (outcome.status === 503 && after !== undefined);
      return unprocessed ? Math.min(MAX_WAIT_MS, after ?? backoff) : undefined;
    }
    return outcome.error.retryable ? Math.min(MAX_WAIT_MS, after ?? backoff) : undefined;
  }

  async #try(request: RestRequest): Promise<{ ok: true; value: JsonValue | undefined } | Failure> {
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    let response: Response;
    let text: string;
    try {
      const authorization = await this.#options.auth.header(signal);
      response = await this.#fetch(`${this.#options.uri.replace(/\/+$/, '')}${request.path}`, {
        method: request.method,
        headers: {
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authorization ? { authorization } : {}),
          ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
        },
        ...(request.body === undefined ? {} : { body: stringifyJson(request.body) }),
        signal,
      });
      text = await response.text();
    } catch (cause) {
      if (cause instanceof OffloadError) return { ok: false, error: cause };
      return { ok: false, error: errorForNetwork(request.route, cause, request.table) };
    }
    if (response.ok) return { ok: true, value: text.trim() === '' ? undefined : parseJson(text) };
    return {
      ok: false,
      status: response.status,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
      error: errorForStatus(request.route, response.status, errorBody(text), request.table),
    };
  }
}

interface Failure {
  readonly ok: false;
  readonly error: OffloadError;
  readonly status?: number;
  readonly retryAfterMs?: number | undefined;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The spec's `{ "error": { "message", "type", "code" } }`, leniently. */
function errorBody(text: string): RestErrorBody {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; type?: unknown } };
    const e = parsed.error;
    return {
      ...(typeof e?.message === 'string' ? { message: e.message.slice(0, 500) } : {}),
      ...(typeof e?.type === 'string' ? { type: e.type } : {}),
    };
  } catch {
    return {};
  }
}
