import { OffloadError } from '../../../errors.js';

/** Supplies the `Authorization` header of every catalog request. */
export interface RestAuth {
  /** The header value, or undefined for none. */
  header(signal: AbortSignal): Promise<string | undefined>;
  /** Forgets a token the catalog rejected (401), so the next header fetches a new one. */
  invalidate(): void;
}

export const noAuth: RestAuth = { header: async () => undefined, invalidate() {} };

/** A static bearer token (the REST catalog's `token` property). */
export function bearerToken(token: string): RestAuth {
  return { header: async () => `Bearer ${token}`, invalidate() {} };
}

export interface ClientCredentials {
  /** The token endpoint (the REST spec's `oauth2-server-uri`; the catalog's deprecated `/v1/oauth/tokens` if the catalog has no other). */
  readonly tokenUri: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default `catalog`, as Iceberg Java. */
  readonly scope?: string;
  readonly timeoutMs: number;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/**
 * OAuth2 client credentials (RFC 6749 §4.4), as Iceberg's `credential`
 * property: a token fetched on first use and again shortly before it
 * expires or after the catalog rejects it. The secret goes only into the
 * token request's body; errors name the endpoint and status, never the body.
 */
export function clientCredentials(options: ClientCredentials): RestAuth {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let cached: { value: string; refreshAt: number } | undefined;
  return {
    async header(signal) {
      if (cached && now() < cached.refreshAt) return cached.value;
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
        scope: options.scope ?? 'catalog',
      });
      let response: Response;
      try {
        response = await doFetch(options.tokenUri, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
        });
      } catch (cause) {
        throw new OffloadError('internal', `OAuth2 token request to ${options.tokenUri} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
          retryable: true,
          cause,
        });
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new OffloadError(response.status >= 500 ? 'internal' : 'config', `OAuth2 token request to ${options.tokenUri} answered HTTP ${response.status}`, {
          retryable: response.status >= 500 || response.status === 429,
        });
      }
      const token = (await response.json()) as { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
      if (typeof token.access_token !== 'string' || token.access_token === '') {
        throw new OffloadError('config', `OAuth2 token response from ${options.tokenUri} has no access_token`);
      }
      // Refresh at 90% of the lifetime; a token without one is refreshed hourly.
      const lifetimeMs = (typeof token.expires_in === 'number' ? token.expires_in : 3600) * 1000;
      cached = { value: `Bearer ${token.access_token}`, refreshAt: now() + lifetimeMs * 0.9 };
      return cached.value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
