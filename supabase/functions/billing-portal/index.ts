import { requireUser } from "../_shared/auth.ts";
import { stripeClient } from "../_shared/billing/stripe.ts";
import { sql } from "../_shared/db.ts";
import { config } from "../_shared/env.ts";
import { handle, HttpError, json } from "../_shared/http.ts";
import { createPortal } from "./portal.ts";

Deno.serve(handle(async (req) => {
  if (req.method !== "POST") throw new HttpError(405, "use POST", "method_not_allowed");
  const userId = await requireUser(req);
  const cfg = config();
  return json(
    await createPortal(
      sql(),
      stripeClient(cfg.stripeSecretKey, fetch, cfg.stripeApiBase),
      userId,
      `${cfg.appUrl}/account`,
    ),
    201,
  );
}));
