/** The Stripe client (official SDK over fetch, so it runs in Deno and Edge Functions). */
import Stripe from "stripe";
import { ConfigError } from "../env.ts";

export { Stripe };

export function stripeClient(secretKey: string | undefined, fetchFn: typeof fetch = fetch): Stripe {
  if (!secretKey) throw new ConfigError("missing environment variable STRIPE_SECRET_KEY: needed for billing");
  return new Stripe(secretKey, { httpClient: Stripe.createFetchHttpClient(fetchFn), maxNetworkRetries: 2 });
}
