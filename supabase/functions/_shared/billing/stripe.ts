/** The Stripe client (official SDK over fetch, so it runs in Deno and Edge Functions). */
import Stripe from "stripe";
import { ConfigError } from "../env.ts";

export { Stripe };

/** A client of Stripe's API, or of `apiBase` (STRIPE_API_BASE: a gateway or a test server) when given. */
export function stripeClient(
  secretKey: string | undefined,
  fetchFn: typeof fetch = fetch,
  apiBase?: string,
): Stripe {
  if (!secretKey) throw new ConfigError("missing environment variable STRIPE_SECRET_KEY: needed for billing");
  const base = apiBase ? new URL(apiBase) : undefined;
  return new Stripe(secretKey, {
    httpClient: Stripe.createFetchHttpClient(fetchFn),
    maxNetworkRetries: 2,
    ...(base
      ? {
        host: base.hostname,
        port: base.port || (base.protocol === "http:" ? 80 : 443),
        protocol: base.protocol === "http:" ? "http" : "https",
      }
      : {}),
  });
}
