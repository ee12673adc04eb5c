/** The Stripe webhook against the database, with events built here and signed with a test secret. */
import assert from "node:assert/strict";
import { Stripe, stripeClient } from "../_shared/billing/stripe.ts";
import { stripeEvent as event } from "../_shared/billing/stripe_testing.ts";
import type { Sql } from "../_shared/db.ts";
import { asUser, createTestBook, createTestUser, deleteTestUser, withSql } from "../_shared/testing.ts";
import { createCheckout } from "../billing-checkout/checkout.ts";
import { createPortal } from "../billing-portal/portal.ts";
import { handle } from "../_shared/http.ts";
import { handleStripeWebhook } from "./webhook.ts";

const SECRET = "whsec_test_litinkai";
const stripe = stripeClient(
  "sk_test_litinkai",
  () => Promise.reject(new Error("no network in webhook tests")),
);
const DAY = 86_400;
const T0 = 1_795_000_000;

function subscription(
  userId: string,
  status: string,
  periodStart: number,
  options: { lookup?: string; cancelAtEnd?: boolean; trialEnd?: number } = {},
) {
  return {
    id: `sub_${userId.slice(0, 8)}`,
    object: "subscription",
    customer: `cus_${userId.slice(0, 8)}`,
    status,
    cancel_at_period_end: options.cancelAtEnd ?? false,
    trial_end: options.trialEnd ?? null,
    metadata: { user_id: userId },
    items: {
      object: "list",
      data: [{
        id: "si_1",
        object: "subscription_item",
        current_period_start: periodStart,
        current_period_end: periodStart + 30 * DAY,
        price: {
          id: "price_std",
          object: "price",
          lookup_key: options.lookup ?? "litinkai_standard_monthly",
        },
      }],
    },
  };
}

function invoice(userId: string, periodStart: number) {
  return {
    id: `in_${crypto.randomUUID().slice(0, 8)}`,
    object: "invoice",
    currency: "usd",
    amount_paid: 2999,
    billing_reason: "subscription_cycle",
    parent: {
      type: "subscription_details",
      subscription_details: { subscription: `sub_${userId.slice(0, 8)}` },
    },
    lines: { object: "list", data: [{ period: { start: periodStart, end: periodStart + 30 * DAY } }] },
  };
}

async function deliver(sql: Sql, payload: string | object, secret = SECRET, client: Stripe = stripe) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  // Signed by the official SDK, as Stripe signs its deliveries.
  const signature = await client.webhooks.generateTestHeaderStringAsync({ payload: body, secret });
  const logs: string[] = [];
  const response = await handle((req) =>
    handleStripeWebhook(req, { sql, stripe: client, webhookSecret: SECRET, log: (line) => logs.push(line) })
  )(
    new Request("http://localhost/functions/v1/stripe-webhook", {
      method: "POST",
      headers: { "Stripe-Signature": signature },
      body,
    }),
  );
  return { status: response.status, body: await response.json(), logs };
}

interface Account {
  tier: string;
  status: string;
  video_count_used: number;
  video_count_limit: number;
  cancel_at_period_end: boolean;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  trial_end: Date | null;
}

async function account(sql: Sql, userId: string): Promise<Account & { history: string[] }> {
  const [row] = await sql<Account[]>`
    select tier::text, status::text, video_count_used, video_count_limit, cancel_at_period_end, stripe_customer_id,
      stripe_subscription_id, trial_end from public.user_subscriptions where user_id = ${userId}`;
  const history = await sql`
    select change_reason::text as reason, from_tier::text, to_tier::text
    from public.subscription_history where user_id = ${userId} order by created_at, id`;
  return { ...row, history: history.map((h) => `${h.reason}:${h.from_tier}->${h.to_tier}`) };
}

Deno.test("free to standard and back to free, with replays and out-of-order events", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "stripe");
    try {
      const checkout = event("checkout.session.completed", {
        id: "cs_1",
        object: "checkout.session",
        client_reference_id: userId,
        customer: `cus_${userId.slice(0, 8)}`,
        subscription: `sub_${userId.slice(0, 8)}`,
        metadata: { user_id: userId },
      }, T0);
      assert.equal((await deliver(sql, checkout)).status, 200);
      const created = event(
        "customer.subscription.created",
        subscription(userId, "active", T0, { trialEnd: T0 + 7 * DAY }),
        T0 + 1,
      );
      assert.deepEqual((await deliver(sql, created)).body.outcome, "applied");
      let now = await account(sql, userId);
      assert.deepEqual([now.tier, now.status, now.video_count_limit], ["standard", "active", 30]);
      assert.equal(
        now.trial_end?.getTime(),
        (T0 + 7 * DAY) * 1000,
        "trial_end comes from Stripe's subscription",
      );
      assert.equal(now.stripe_customer_id, `cus_${userId.slice(0, 8)}`);
      assert.deepEqual(now.history, ["upgrade:free->standard"]);

      // A replay is acknowledged and changes nothing.
      const replay = await deliver(sql, created);
      assert.equal(replay.status, 200);
      assert.equal(replay.body.duplicate, true);
      assert.deepEqual((await account(sql, userId)).history, ["upgrade:free->standard"]);

      // Usage this period, then a failed payment blocks new generations.
      await sql`update public.user_subscriptions set video_count_used = 7 where user_id = ${userId}`;
      await deliver(sql, event("invoice.payment_failed", invoice(userId, T0), T0 + 2));
      assert.equal((await account(sql, userId)).status, "past_due");
      const { chapterIds } = await createTestBook(sql, userId, [{ title: "One", content: "Text." }]);
      await assert.rejects(
        asUser(sql, userId, (tx) => tx`select public.start_video_generation(${chapterIds[0]})`),
        /subscription is past_due/,
      );

      // Paid renewal: a new period, active again, the count back to zero; the payment counts towards
      // the user's progress once, however often Stripe delivers it.
      const paid = invoice(userId, T0 + 30 * DAY);
      await deliver(sql, event("invoice.paid", paid, T0 + 30 * DAY));
      await deliver(sql, event("invoice.paid", paid, T0 + 30 * DAY + 1));
      now = await account(sql, userId);
      assert.deepEqual([now.status, now.video_count_used], ["active", 0]);
      const [progress] = await sql`
        select total_spent_usd, achievements ? 'first_payment' as paid from public.user_progress where user_id = ${userId}`;
      assert.deepEqual([Number(progress.total_spent_usd), progress.paid], [29.99, true]);
      assert.deepEqual(now.history.slice(1), [
        "payment_failed:standard->standard",
        "renewal:standard->standard",
      ]);

      // Cancellation at period end, then deletion; delivered out of order.
      const updated = event(
        "customer.subscription.updated",
        subscription(userId, "active", T0 + 30 * DAY, { cancelAtEnd: true }),
        T0 + 31 * DAY,
      );
      const deleted = event(
        "customer.subscription.deleted",
        subscription(userId, "canceled", T0 + 30 * DAY),
        T0 + 60 * DAY,
      );
      assert.equal((await deliver(sql, deleted)).body.outcome, "applied");
      assert.equal(
        (await deliver(sql, updated)).body.outcome,
        "stale",
        "an older update does not undo the cancellation",
      );
      now = await account(sql, userId);
      assert.deepEqual([now.tier, now.status, now.video_count_limit, now.stripe_subscription_id], [
        "free",
        "canceled",
        2,
        null,
      ]);
      assert.equal(now.history.at(-1), "cancel:standard->free");
      assert.equal(now.history.length, 4);
      const [{ n }] =
        await sql`select count(*)::integer as n from private.stripe_events where detail is null and outcome in ('applied', 'stale')`;
      assert.ok(n >= 6);
    } finally {
      await deleteTestUser(sql, userId);
    }
  });
});

Deno.test("cancel_at_period_end keeps the tier until Stripe deletes the subscription", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "stripe-cancel");
    try {
      await deliver(
        sql,
        event(
          "customer.subscription.created",
          subscription(userId, "active", T0, { lookup: "litinkai_premium_monthly" }),
          T0,
        ),
      );
      await deliver(
        sql,
        event(
          "customer.subscription.updated",
          subscription(userId, "active", T0, { lookup: "litinkai_premium_monthly", cancelAtEnd: true }),
          T0 + 5,
        ),
      );
      const now = await account(sql, userId);
      assert.deepEqual([now.tier, now.cancel_at_period_end, now.video_count_limit], ["premium", true, 100]);
    } finally {
      await deleteTestUser(sql, userId);
    }
  });
});

/** A Stripe client whose API answers GET /v1/subscriptions/:id with the recorded subscription. */
function stripeWithCurrentSubscription(userId: string, available = true) {
  const calls: string[] = [];
  const fetchFn = ((input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push(`${init?.method ?? "GET"} ${url.pathname}`);
    if (!available) return Promise.reject(new TypeError("network unreachable"));
    const body = Deno.readTextFileSync(
      new URL("../_shared/billing/recorded/subscription_retrieve.json", import.meta.url),
    ).replaceAll("SUBSCRIPTION_ID", `sub_${userId.slice(0, 8)}`).replaceAll(
      "CUSTOMER_ID",
      `cus_${userId.slice(0, 8)}`,
    )
      .replaceAll("USER_ID", userId);
    return Promise.resolve(
      new Response(body, { status: 200, headers: { "Content-Type": "application/json" } }),
    );
  }) as typeof fetch;
  return { client: stripeClient("sk_test_litinkai", fetchFn), calls };
}

Deno.test("two subscription events of the same second, in either order: Stripe's current object wins", async () => {
  await withSql(async (sql) => {
    for (const order of ["reversed", "in order"]) {
      const userId = await createTestUser(sql, "stripe-tie");
      try {
        const api = stripeWithCurrentSubscription(userId);
        await deliver(sql, event("customer.subscription.created", subscription(userId, "active", T0), T0));
        // The user asks to cancel at the period's end, then Stripe's second event of that second.
        const older = event("customer.subscription.updated", subscription(userId, "active", T0), T0 + 40);
        const newer = event(
          "customer.subscription.updated",
          subscription(userId, "active", T0, { cancelAtEnd: true }),
          T0 + 40,
        );
        const deliveries = order === "reversed" ? [newer, older] : [older, newer];
        const outcomes = [];
        for (const e of deliveries) outcomes.push((await deliver(sql, e, SECRET, api.client)).body.outcome);
        assert.deepEqual(outcomes, ["applied", "applied"], order);
        assert.deepEqual(
          api.calls,
          [`GET /v1/subscriptions/sub_${userId.slice(0, 8)}`],
          "asked once, on the tie",
        );
        const now = await account(sql, userId);
        assert.deepEqual(
          [now.tier, now.status, now.cancel_at_period_end],
          ["standard", "active", true],
          order,
        );
      } finally {
        await deleteTestUser(sql, userId);
      }
    }
  });
});

Deno.test("a tie that Stripe's API cannot settle now is refused (503) and applied when delivered again", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "stripe-tie-down");
    try {
      await deliver(sql, event("customer.subscription.created", subscription(userId, "active", T0), T0));
      const newer = event(
        "customer.subscription.updated",
        subscription(userId, "active", T0, { cancelAtEnd: true }),
        T0 + 9,
      );
      const older = event("customer.subscription.updated", subscription(userId, "active", T0), T0 + 9);
      assert.equal((await deliver(sql, newer)).body.outcome, "applied");
      const down = await deliver(sql, older, SECRET, stripeWithCurrentSubscription(userId, false).client);
      assert.equal(down.status, 503);
      assert.match(down.body.error, /share a second.*deliver again later/);
      const [{ recorded }] =
        await sql`select count(*)::int as recorded from private.stripe_events where id = ${older.id}`;
      assert.equal(recorded, 0, "not in the ledger, so Stripe's redelivery is applied");
      assert.equal((await account(sql, userId)).cancel_at_period_end, true, "nothing changed");
      const again = await deliver(sql, older, SECRET, stripeWithCurrentSubscription(userId).client);
      assert.equal(again.body.outcome, "applied");
      assert.equal((await account(sql, userId)).cancel_at_period_end, true);
    } finally {
      await deleteTestUser(sql, userId);
    }
  });
});

Deno.test("bad signatures, malformed JSON and unknown events are answered and logged; nothing changes", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "stripe-bad");
    try {
      const before = await account(sql, userId);
      const [{ ledger }] = await sql`select count(*)::integer as ledger from private.stripe_events`;
      const forged = await deliver(
        sql,
        event("customer.subscription.created", subscription(userId, "active", T0), T0),
        "whsec_wrong",
      );
      assert.equal(forged.status, 400);
      assert.equal(forged.body.error, "invalid signature");
      assert.match(forged.logs[0], /rejected/);
      const malformed = await deliver(sql, '{"id": "evt_1", "type": ');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error, "malformed JSON");
      const unsigned = await handleStripeWebhook(new Request("http://x/", { method: "POST", body: "{}" }), {
        sql,
        stripe,
        webhookSecret: SECRET,
        log: () => {},
      });
      assert.equal(unsigned.status, 400);
      // Refused before its body is read (a body that cannot be read would fail otherwise).
      let pulled = false;
      const unreadable = new ReadableStream({
        pull() {
          pulled = true;
          throw new Error("the body was read");
        },
      }, { highWaterMark: 0 });
      const unsignedStream = await handleStripeWebhook(
        new Request("http://x/", { method: "POST", body: unreadable }),
        { sql, stripe, webhookSecret: SECRET, log: () => {} },
      );
      assert.equal(unsignedStream.status, 400);
      assert.equal(pulled, false, "an unsigned request's body is never read");
      const huge = await deliver(sql, JSON.stringify({ padding: "x".repeat(600 * 1024) }));
      assert.equal(huge.status, 413);
      assert.match(huge.body.error, /limited to 524288 bytes/);
      assert.deepEqual(await account(sql, userId), before);
      const [{ after }] = await sql`select count(*)::integer as after from private.stripe_events`;
      assert.equal(after, ledger, "rejected requests leave no ledger entry");

      const unknown = await deliver(
        sql,
        event("customer.tax_id.created", { id: "txi_1", object: "tax_id" }, T0),
      );
      assert.equal(unknown.status, 200);
      assert.equal(unknown.body.outcome, "ignored");
      assert.match(unknown.logs[0], /not handled/);
      const [{ outcome }] =
        await sql`select outcome from private.stripe_events where id = ${unknown.body.event}`;
      assert.equal(outcome, "ignored");
    } finally {
      await deleteTestUser(sql, userId);
    }
  });
});

/** A fetch that answers Stripe API calls with recorded bodies, keyed by method and path. */
function recordedStripe(userId: string) {
  const calls: string[] = [];
  const files: Record<string, string> = {
    "POST /v1/customers": "customer_create",
    "GET /v1/prices": "price_list",
    "POST /v1/checkout/sessions": "checkout_session_create",
    "POST /v1/billing_portal/sessions": "portal_session_create",
  };
  const fetchFn = ((input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const key = `${init?.method ?? "GET"} ${url.pathname}`;
    calls.push(`${key}${url.search}${init?.body ? ` ${init.body}` : ""}`);
    const file = files[key];
    const body = Deno.readTextFileSync(new URL(`../_shared/billing/recorded/${file}.json`, import.meta.url))
      .replaceAll("USER_ID", userId);
    return Promise.resolve(
      new Response(body, { status: file ? 200 : 404, headers: { "Content-Type": "application/json" } }),
    );
  }) as typeof fetch;
  return { client: stripeClient("sk_test_litinkai", fetchFn), calls };
}

Deno.test("checkout creates the customer once and a subscription session; portal needs a customer (recorded responses)", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "checkout");
    try {
      const { client, calls } = recordedStripe(userId);
      await assert.rejects(
        createPortal(sql, client, userId, "http://localhost:3000/account"),
        /subscribe through checkout first/,
      );
      await assert.rejects(
        createCheckout(sql, client, userId, { tier: "free" }, "http://localhost:3000"),
        /"tier" must be/,
      );
      const session = await createCheckout(
        sql,
        client,
        userId,
        { tier: "standard" },
        "http://localhost:3000",
      );
      assert.equal(session.url, "https://checkout.stripe.com/c/pay/cs_test_a1LitinkAIcheckout");
      const [{ stripe_customer_id }] =
        await sql`select stripe_customer_id from public.user_subscriptions where user_id = ${userId}`;
      assert.equal(stripe_customer_id, "cus_TfLz3kQ8xVb2Ha");
      const checkoutCall = calls.find((c) => c.startsWith("POST /v1/checkout/sessions"))!;
      assert.match(checkoutCall, /mode=subscription/);
      assert.match(checkoutCall, /client_reference_id=/);
      assert.match(checkoutCall, /line_items\[0\]\[price\]=price_1SStd30LitinkAI/);
      assert.match(
        calls.find((c) => c.startsWith("GET /v1/prices"))!,
        /lookup_keys\[0\]=litinkai_standard_monthly/,
      );

      // Return links must stay in the web app: a phishing page as success_url is refused before Stripe is called.
      const before = calls.length;
      for (
        const [field, link] of [
          ["success_url", "https://evil.example/billing/success"],
          ["cancel_url", "http://localhost:3000.evil.example/x"],
          ["success_url", "http://user:pw@localhost:3000/ok"],
          ["cancel_url", "javascript:alert(1)"],
        ]
      ) {
        await assert.rejects(
          createCheckout(sql, client, userId, { tier: "standard", [field]: link }, "http://localhost:3000"),
          new RegExp(`"${field}" must be a link under http://localhost:3000/`),
        );
      }
      await assert.rejects(
        createCheckout(
          sql,
          client,
          userId,
          { tier: "standard", success_url: "https://app.example/appx" },
          "https://app.example/app",
        ),
        /must be a link under https:\/\/app.example\/app\//,
      );
      assert.equal(calls.length, before, "no Stripe call for a refused link");
      await createCheckout(sql, client, userId, {
        tier: "standard",
        success_url: "http://localhost:3000/billing/done?s={CHECKOUT_SESSION_ID}",
      }, "http://localhost:3000");
      assert.match(calls.at(-1)!, /success_url=http%3A%2F%2Flocalhost%3A3000%2Fbilling%2Fdone/);
      assert.equal(
        calls.filter((c) => c.startsWith("POST /v1/customers")).length,
        1,
        "the customer is created once",
      );
      const portal = await createPortal(sql, client, userId, "http://localhost:3000/account");
      assert.equal(portal.url, "https://billing.stripe.com/p/session/test_LitinkAIportal");
    } finally {
      await deleteTestUser(sql, userId);
    }
  });
});

Deno.test("Stripe's customer is the account: a client_reference_id or metadata naming another user binds nothing", async () => {
  await withSql(async (sql) => {
    const victim = await createTestUser(sql, "stripe-victim");
    const fresh = await createTestUser(sql, "stripe-fresh");
    const attacker = await createTestUser(sql, "stripe-attacker");
    try {
      // The victim subscribed through our checkout: their customer, their subscription.
      const tag = victim.slice(0, 8);
      await sql`select private.link_stripe_customer(${victim}, ${`cus_${tag}`})`;
      assert.equal(
        (await deliver(
          sql,
          event("checkout.session.completed", {
            id: "cs_v",
            object: "checkout.session",
            client_reference_id: victim,
            customer: `cus_${tag}`,
            subscription: `sub_${tag}`,
            metadata: { user_id: victim },
          }, T0),
        )).body.outcome,
        "applied",
      );
      await deliver(sql, event("customer.subscription.created", subscription(victim, "active", T0), T0 + 1));
      const victimBefore = await account(sql, victim);
      assert.deepEqual(
        [victimBefore.tier, victimBefore.stripe_customer_id, victimBefore.stripe_subscription_id],
        ["standard", `cus_${tag}`, `sub_${tag}`],
      );
      const freshBefore = await account(sql, fresh);

      // A session the attacker paid for (a payment link takes client_reference_id from its URL), naming
      // the victim, and one naming a user who has no customer yet.
      for (const named of [victim, fresh]) {
        const bound = await deliver(
          sql,
          event("checkout.session.completed", {
            id: `cs_a_${named.slice(0, 4)}`,
            object: "checkout.session",
            client_reference_id: named,
            customer: "cus_attacker",
            subscription: "sub_attacker",
            metadata: {},
          }, T0 + 2),
        );
        assert.equal(bound.body.outcome, "unmatched", JSON.stringify(bound.body));
      }
      // The attacker's subscription: its customer is no account's.
      const paid = {
        ...subscription(attacker, "active", T0, { lookup: "litinkai_premium_monthly" }),
        id: "sub_attacker",
        customer: "cus_attacker",
        metadata: {},
      };
      assert.equal(
        (await deliver(sql, event("customer.subscription.created", paid, T0 + 3))).body.outcome,
        "unmatched",
      );
      // Metadata naming the victim beside another customer rebinds nothing either.
      const renamed = await deliver(
        sql,
        event("customer.subscription.updated", { ...paid, metadata: { user_id: victim } }, T0 + 4),
      );
      assert.equal(renamed.body.outcome, "unmatched");
      assert.match(renamed.logs.join("\n"), /cus_attacker/);
      assert.deepEqual(await account(sql, victim), victimBefore, "the victim's account is untouched");
      assert.deepEqual(await account(sql, fresh), freshBefore, "so is that of a user without a customer");
      // The attacker canceling their own subscription does not end the victim's.
      await deliver(sql, event("customer.subscription.deleted", { ...paid, status: "canceled" }, T0 + 5));
      assert.deepEqual(await account(sql, victim), victimBefore);
    } finally {
      for (const id of [victim, fresh, attacker]) await deleteTestUser(sql, id);
    }
  });
});

Deno.test("return links reach Stripe as the link that was checked, not as a string other parsers read otherwise", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "checkout-links");
    try {
      const { client, calls } = recordedStripe(userId);
      const sent = async (successUrl: string) => {
        await createCheckout(
          sql,
          client,
          userId,
          { tier: "standard", success_url: successUrl },
          "http://localhost:3000",
        );
        const body = new URLSearchParams(calls.at(-1)!.split(" ").slice(2).join(" "));
        return body.get("success_url");
      };
      // A backslash is a slash to browsers but not to every parser; tabs and newlines are dropped by
      // browsers only: what Stripe gets is what was checked.
      assert.equal(
        await sent("http://localhost:3000\\@evil.example/"),
        "http://localhost:3000/@evil.example/",
      );
      assert.equal(await sent("http://local\nhost:3000/ok"), "http://localhost:3000/ok");
      assert.equal(await sent(" http://localhost:3000/ok\t"), "http://localhost:3000/ok");
      assert.equal(await sent("HTTP://LOCALHOST:3000/a/../b"), "http://localhost:3000/b");
      // Stripe's placeholder stays as Stripe needs it, in the path as in the query.
      assert.equal(
        await sent("http://localhost:3000/done/{CHECKOUT_SESSION_ID}?s={CHECKOUT_SESSION_ID}"),
        "http://localhost:3000/done/{CHECKOUT_SESSION_ID}?s={CHECKOUT_SESSION_ID}",
      );
    } finally {
      await deleteTestUser(sql, userId);
    }
  });
});
