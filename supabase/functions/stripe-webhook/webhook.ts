/**
 * Stripe webhook: verifies the signature on the raw body, applies each event once (the event ledger
 * and the per-subscription last_synced_at make replays and late events harmless), and answers Stripe.
 */
import type { Sql } from "../_shared/db.ts";
import { HttpError, json, readBody } from "../_shared/http.ts";
import { Stripe } from "../_shared/billing/stripe.ts";

export interface WebhookDeps {
  sql: Sql;
  stripe: Stripe;
  webhookSecret: string;
  log?: (line: string) => void;
}

/** Stripe's events are a few KiB; anything near this is not one. */
const WEBHOOK_BODY_LIMIT = 512 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const at = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000) : null);
const idOf = (
  value: string | { id: string } | null | undefined,
) => (typeof value === "string" ? value : value?.id ?? null);

/** A subscription as an event (or, with `current`, Stripe's API just now) describes it. */
async function applySubscription(
  tx: Sql,
  event: Stripe.Event,
  subscription: Stripe.Subscription,
  deleted: boolean,
  current: boolean,
): Promise<string> {
  const item = subscription.items.data[0];
  // Newer API versions keep the period on the item, older ones on the subscription.
  const legacy = subscription as unknown as { current_period_start?: number; current_period_end?: number };
  const [{ outcome }] = await tx<{ outcome: string }[]>`
    select private.apply_stripe_subscription(${event.id}, ${at(event.created)}, ${
    subscription.metadata?.user_id ?? null
  },
      ${idOf(subscription.customer)}, ${subscription.id}, ${item?.price.id ?? null}, ${
    item?.price.lookup_key ?? null
  },
      ${subscription.status}, ${at(item?.current_period_start ?? legacy.current_period_start)},
      ${at(item?.current_period_end ?? legacy.current_period_end)}, ${subscription.cancel_at_period_end},
      ${deleted}, ${at(subscription.trial_end)}, ${current}) as outcome`;
  return outcome;
}

async function applyEvent(tx: Sql, stripe: Stripe, event: Stripe.Event): Promise<string> {
  const created = at(event.created)!;
  switch (event.type) {
    case "checkout.session.completed": {
      // The session's customer decides whose it is (our checkout created it for its user); the user
      // the session names must be that one.
      const session = event.data.object;
      const named = session.client_reference_id ?? session.metadata?.user_id ?? null;
      const [{ outcome }] = await tx<{ outcome: string }[]>`
        select private.link_stripe_checkout(${idOf(session.customer)}, ${idOf(session.subscription)}, ${
        UUID.test(named ?? "") ? named : null
      }) as outcome`;
      return outcome;
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const subscription = event.data.object;
      const deleted = event.type === "customer.subscription.deleted";
      const outcome = await applySubscription(tx, event, subscription, deleted, false);
      if (outcome !== "tied") return outcome;
      // Another event of the same second came first: Stripe's current object settles the order.
      const fresh = await stripe.subscriptions.retrieve(subscription.id).catch((error) => {
        throw new HttpError(
          503,
          `two events of ${subscription.id} share a second and Stripe's API could not be asked which is current (${
            (error as Error).message
          }); deliver again later`,
          "stripe_unavailable",
        );
      });
      return await applySubscription(tx, event, fresh, deleted || fresh.status === "canceled", true);
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const invoice = event.data.object;
      const legacy = invoice as unknown as { subscription?: string | { id: string } };
      const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription ?? legacy.subscription);
      if (!subscriptionId) return "ignored"; // not a subscription invoice
      if (event.type === "invoice.payment_failed") {
        const [{ outcome }] = await tx<{ outcome: string }[]>`
          select private.mark_stripe_payment_failed(${event.id}, ${created}, ${subscriptionId}) as outcome`;
        return outcome;
      }
      const period = invoice.lines.data[0]?.period;
      // Amounts are in the currency's smallest unit; progress counts US dollars.
      const paidUsd = invoice.currency === "usd" ? (invoice.amount_paid ?? 0) / 100 : 0;
      const [{ outcome }] = await tx<{ outcome: string }[]>`
        select private.apply_stripe_invoice_paid(${event.id}, ${created}, ${subscriptionId},
          ${at(period?.start ?? invoice.period_start)}, ${at(period?.end ?? invoice.period_end)},
          ${invoice.id ?? null}, ${paidUsd}) as outcome`;
      return outcome;
    }
    default:
      return "ignored";
  }
}

export async function handleStripeWebhook(req: Request, deps: WebhookDeps): Promise<Response> {
  const log = deps.log ?? ((line: string) => console.warn(line));
  if (req.method !== "POST") return json({ error: "use POST" }, 405);
  // Refused before the body is read: unsigned requests cost nothing.
  const signature = req.headers.get("Stripe-Signature");
  if (!signature) {
    log("stripe-webhook: rejected a request without a Stripe-Signature header");
    return json({ error: "missing Stripe-Signature header" }, 400);
  }
  const body = await readBody(req, WEBHOOK_BODY_LIMIT);
  let event: Stripe.Event;
  try {
    event = await deps.stripe.webhooks.constructEventAsync(
      body,
      signature,
      deps.webhookSecret,
      undefined,
      Stripe.createSubtleCryptoProvider(),
    );
  } catch (error) {
    const malformed = error instanceof SyntaxError;
    log(`stripe-webhook: rejected: ${malformed ? "malformed JSON" : (error as Error).message}`);
    return json({ error: malformed ? "malformed JSON" : "invalid signature" }, 400);
  }

  const result = await deps.sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${event.id}))`;
    const [{ seen }] = await tx<{ seen: boolean }[]>`
      select exists (select 1 from private.stripe_events where id = ${event.id}) as seen`;
    if (seen) return { duplicate: true, outcome: "duplicate" };
    // applyEvent answers "ignored" for types it does not handle.
    let outcome: string;
    let detail: string | null = null;
    try {
      outcome = await tx.savepoint((sp) => applyEvent(sp as unknown as Sql, deps.stripe, event));
    } catch (error) {
      // Not recorded, so Stripe delivers it again: Stripe's API unavailable on a tie, or a transient
      // database error (a deadlock, a serialization failure, a lost connection).
      const code = String((error as { code?: unknown }).code ?? "");
      if (error instanceof HttpError || code.startsWith("40") || code.startsWith("08")) throw error;
      outcome = "unmatched";
      detail = (error as Error).message;
    }
    await tx`select private.record_stripe_event(${event.id}, ${event.type}, ${
      at(event.created)
    }, ${outcome}, ${detail})`;
    return { duplicate: false, outcome, detail };
  });
  if (result.outcome === "ignored") {
    log(`stripe-webhook: ${event.id} (${event.type}) is not handled; acknowledged`);
  }
  if (result.outcome === "unmatched") {
    log(`stripe-webhook: ${event.id} (${event.type}) matched no subscription: ${result.detail ?? ""}`);
  }
  return json({ received: true, event: event.id, ...result });
}
