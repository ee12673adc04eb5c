/** Checkout Session for the signed-in user and a paid tier; the Stripe customer is created once. */
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import type { Stripe } from "../_shared/billing/stripe.ts";

export interface CheckoutRequest {
  tier?: unknown;
  success_url?: unknown;
  cancel_url?: unknown;
}

/**
 * A return link, which must stay in the web app (APP_URL): Checkout must not send users elsewhere.
 * Stripe gets the link as it was parsed and checked (a backslash, a tab or a newline would let
 * another parser read a different host), with Stripe's {CHECKOUT_SESSION_ID} placeholder kept.
 */
export function appLink(value: unknown, fallback: string, name: string, appUrl: string): string {
  const chosen = value ?? fallback;
  const app = new URL(appUrl);
  const base = app.pathname.endsWith("/") ? app.pathname : `${app.pathname}/`;
  let link: URL | undefined;
  try {
    link = typeof chosen === "string" ? new URL(chosen) : undefined;
  } catch {
    link = undefined;
  }
  if (
    !link || link.origin !== app.origin || !(`${link.pathname}/`).startsWith(base) || link.username ||
    link.password
  ) {
    throw new HttpError(400, `"${name}" must be a link under ${app.origin}${base}`, "bad_request");
  }
  return link.href.replaceAll("%7BCHECKOUT_SESSION_ID%7D", "{CHECKOUT_SESSION_ID}");
}

/** The user's Stripe customer: the remembered one, or a new one (idempotent per user). */
export async function ensureCustomer(sql: Sql, stripe: Stripe, userId: string): Promise<string> {
  const [account] = await sql<{ stripe_customer_id: string | null; email: string | null }[]>`
    select s.stripe_customer_id, p.email from public.user_subscriptions s join public.profiles p on p.id = s.user_id
    where s.user_id = ${userId}`;
  if (!account) throw new HttpError(404, "no subscription record for this user", "not_found");
  if (account.stripe_customer_id) return account.stripe_customer_id;
  const customer = await stripe.customers.create(
    { email: account.email ?? undefined, metadata: { user_id: userId } },
    { idempotencyKey: `litinkai-customer-${userId}` },
  );
  await sql`select private.link_stripe_customer(${userId}, ${customer.id})`;
  const [{ stripe_customer_id }] = await sql<{ stripe_customer_id: string }[]>`
    select stripe_customer_id from public.user_subscriptions where user_id = ${userId}`;
  return stripe_customer_id;
}

export async function createCheckout(
  sql: Sql,
  stripe: Stripe,
  userId: string,
  request: CheckoutRequest,
  appUrl: string,
): Promise<{ id: string; url: string | null }> {
  const [tier] = typeof request.tier === "string"
    ? await sql<{ tier: string; stripe_lookup_key: string | null }[]>`
      select tier::text, stripe_lookup_key from public.subscription_tiers() where tier::text = ${request.tier}`
    : [];
  if (!tier || !tier.stripe_lookup_key) {
    throw new HttpError(400, '"tier" must be one of basic, standard, premium, professional', "bad_request");
  }
  const successUrl = appLink(
    request.success_url,
    `${appUrl.replace(/\/$/, "")}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    "success_url",
    appUrl,
  );
  const cancelUrl = appLink(
    request.cancel_url,
    `${appUrl.replace(/\/$/, "")}/billing/cancelled`,
    "cancel_url",
    appUrl,
  );
  const customer = await ensureCustomer(sql, stripe, userId);
  const prices = await stripe.prices.list({ lookup_keys: [tier.stripe_lookup_key], active: true, limit: 1 });
  const price = prices.data[0];
  if (!price) {
    throw new HttpError(
      503,
      `no active Stripe price has the lookup key ${tier.stripe_lookup_key}`,
      "price_missing",
    );
  }
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer,
    client_reference_id: userId,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: successUrl,
    cancel_url: cancelUrl,
    metadata: { user_id: userId, tier: tier.tier },
    subscription_data: { metadata: { user_id: userId } },
  });
  return { id: session.id, url: session.url };
}
