import { stripeClient } from "../_shared/billing/stripe.ts";
import { sql } from "../_shared/db.ts";
import { config, ConfigError } from "../_shared/env.ts";
import { handle } from "../_shared/http.ts";
import { handleStripeWebhook } from "./webhook.ts";

Deno.serve(handle((req) => {
  const cfg = config();
  if (!cfg.stripeWebhookSecret) throw new ConfigError("missing environment variable STRIPE_WEBHOOK_SECRET");
  return handleStripeWebhook(req, {
    sql: sql(),
    stripe: stripeClient(cfg.stripeSecretKey, fetch, cfg.stripeApiBase),
    webhookSecret: cfg.stripeWebhookSecret,
  });
}));
