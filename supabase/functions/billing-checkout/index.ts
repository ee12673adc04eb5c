import { requireUser } from "../_shared/auth.ts";
import { stripeClient } from "../_shared/billing/stripe.ts";
import { sql } from "../_shared/db.ts";
import { config } from "../_shared/env.ts";
import { handle, HttpError, json, readJson } from "../_shared/http.ts";
import { type CheckoutRequest, createCheckout } from "./checkout.ts";

Deno.serve(handle(async (req) => {
  if (req.method !== "POST") throw new HttpError(405, "use POST with {tier}", "method_not_allowed");
  const userId = await requireUser(req);
  const cfg = config();
  const session = await createCheckout(
    sql(),
    stripeClient(cfg.stripeSecretKey, fetch, cfg.stripeApiBase),
    userId,
    await readJson<CheckoutRequest>(req),
    cfg.appUrl,
  );
  return json(session, 201);
}));
