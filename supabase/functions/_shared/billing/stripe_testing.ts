/** For tests and benchmarks: Stripe events built as Stripe sends them, to be signed with a test secret. */
import { Stripe } from "./stripe.ts";

export function stripeEvent(type: string, object: Record<string, unknown>, created: number) {
  return {
    id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
    object: "event",
    api_version: Stripe.API_VERSION,
    created,
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
}
