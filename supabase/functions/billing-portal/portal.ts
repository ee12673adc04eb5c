/** Customer Portal session, for users who already have a Stripe customer. */
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import type { Stripe } from "../_shared/billing/stripe.ts";

export async function createPortal(
  sql: Sql,
  stripe: Stripe,
  userId: string,
  returnUrl: string,
): Promise<{ url: string }> {
  const [account] = await sql<{ stripe_customer_id: string | null }[]>`
    select stripe_customer_id from public.user_subscriptions where user_id = ${userId}`;
  if (!account?.stripe_customer_id) {
    throw new HttpError(409, "no billing account yet: subscribe through checkout first", "no_customer");
  }
  const session = await stripe.billingPortal.sessions.create({
    customer: account.stripe_customer_id,
    return_url: returnUrl,
  });
  return { url: session.url };
}
