/**
 * Operator alerts through supabase-js: a superadmin receives an alert as the health check raises it
 * (postgres_changes and the private `operator:alerts` topic), reads it with the usage behind it,
 * acknowledges it and sees it resolved after raising its threshold; a user and an anonymous visitor
 * receive nothing, read nothing and may not join the topic.
 */
import assert from "node:assert/strict";
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import type { Database } from "../../supabase/functions/_shared/database.types.ts";
import { deleteTestUser, withSql } from "../../supabase/functions/_shared/testing.ts";
import { ANON_KEY } from "./context.ts";
import { startApi } from "./server.ts";

type Client = SupabaseClient<Database>;
type Alert = Database["public"]["Tables"]["operator_alerts"]["Row"];
interface Change {
  eventType: string;
  new: Partial<Alert>;
}
interface Broadcast {
  event: string;
  payload: { table: string; record: Alert; old_record: Alert | null };
}

function client(url: string): Client {
  return createClient<Database>(url, ANON_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
}

async function signUp(supabase: Client, label: string): Promise<string> {
  const email = `${label}-${crypto.randomUUID().slice(0, 8)}@alerts.test`;
  const { data, error } = await supabase.auth.signUp({ email, password: "an operator's long password" });
  assert.equal(error, null);
  return data.user!.id;
}

/** Resolves with the first status the channel reaches (SUBSCRIBED, or the refusal and its reason). */
function subscribe(channel: RealtimeChannel): Promise<{ status: string; error?: Error }> {
  return new Promise((resolve) => channel.subscribe((status, error) => resolve({ status, error })));
}

async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const checkAlerts = () => withSql((sql) => sql`select * from private.check_operator_alerts()`);

Deno.test({
  name: "operator alerts: a superadmin receives, reads and acknowledges them; a user and anon get nothing",
  // realtime-js leaves timers behind (disconnect's fallback, pushes Realtime never answers).
  sanitizeOps: false,
  async fn() {
    const api = startApi({ port: 0 });
    const admin = client(api.url), user = client(api.url), anon = client(api.url);
    const users: string[] = [];
    try {
      const adminId = await signUp(admin, "operator");
      const userId = await signUp(user, "spender");
      users.push(adminId, userId);
      await withSql((sql) =>
        sql`insert into public.user_roles (user_id, role_name) values (${adminId}, 'superadmin')`
      );

      // The superadmin watches the table and the private topic.
      const adminChanges: Change[] = [], adminBroadcasts: Broadcast[] = [];
      const table = { schema: "public", table: "operator_alerts" };
      const watched = admin.channel("operator-table")
        .on("postgres_changes", { event: "*", ...table }, (p) => adminChanges.push(p as unknown as Change));
      assert.equal((await subscribe(watched)).status, "SUBSCRIBED");
      await admin.realtime.setAuth();
      const topic = admin.channel("operator:alerts", { config: { private: true } })
        .on("broadcast", { event: "*" }, (m) => adminBroadcasts.push(m as unknown as Broadcast));
      assert.equal((await subscribe(topic)).status, "SUBSCRIBED");

      // The user and an anonymous visitor listen to everything they may, and try the topic.
      const seenByOthers: string[] = [];
      for (const [who, supabase] of [["user", user], ["anon", anon]] as const) {
        const listening = supabase.channel(`${who}-table`)
          .on(
            "postgres_changes",
            { event: "*", ...table },
            (p) => seenByOthers.push(`${who}: ${p.eventType}`),
          );
        assert.equal((await subscribe(listening)).status, "SUBSCRIBED");
        await supabase.realtime.setAuth();
        const refused = await subscribe(supabase.channel("operator:alerts", { config: { private: true } }));
        assert.equal(refused.status, "CHANNEL_ERROR", `${who} may not join operator:alerts`);
        assert.equal(
          refused.error?.message,
          "Unauthorized: You do not have permissions to read from this Channel topic: operator:alerts",
        );
      }

      // The user spends $60 in a day (the threshold is $50) and the check runs.
      await withSql((sql) =>
        sql`insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, cost_usd, tier_at_time)
            values (${userId}, 'video', 'modelslab', 'modelslab-image-to-video', 'video', 60, 'professional')`
      );
      await checkAlerts();
      // (The every-minute cron job may have raised it first: either way it arrives as an insert.)
      const raised = await eventually(
        "the alert through postgres_changes",
        () => adminChanges.find((p) => p.eventType === "INSERT" && p.new.subject === userId),
      );
      assert.equal(raised.new.kind, "user_daily_cost");
      assert.equal(raised.new.status, "open");
      assert.equal(raised.new.user_id, userId);
      assert.equal(raised.new.value, 60);
      const sent = await eventually(
        "the alert on operator:alerts",
        () => adminBroadcasts.find((m) => m.event === "INSERT" && m.payload.record.subject === userId),
      );
      assert.equal(sent.payload.table, "operator_alerts");
      assert.match(
        sent.payload.record.message,
        /^user spender-[0-9a-f]{8}@alerts\.test spent \$60\.00 in the last 24 hours/,
      );

      // The superadmin reads the alert and the usage behind it, and acknowledges it.
      const { data: alerts, error } = await admin.from("operator_alerts").select("id, kind, status, value")
        .eq("subject", userId);
      assert.equal(error, null);
      assert.deepEqual(alerts, [{ id: raised.new.id, kind: "user_daily_cost", status: "open", value: 60 }]);
      const usage = await admin.from("usage_logs").select("cost_usd").eq("user_id", userId);
      assert.deepEqual(usage.data, [{ cost_usd: 60 }], "a superadmin reads every user's usage");
      const acknowledged = await admin.rpc("acknowledge_operator_alert", { alert_id: raised.new.id! });
      assert.equal(acknowledged.error, null);
      assert.equal(acknowledged.data?.acknowledged_by, adminId);
      const ackSent = await eventually(
        "the acknowledgement on operator:alerts",
        () =>
          adminBroadcasts.find((m) => m.event === "UPDATE" && m.payload.record.acknowledged_by === adminId),
      );
      assert.equal(ackSent.payload.old_record?.acknowledged_by, null);

      // The user reads nothing, edits no threshold and acknowledges nothing; anon neither.
      assert.deepEqual((await user.from("operator_alerts").select("id")).data, []);
      assert.deepEqual((await user.from("operator_alert_settings").select("id")).data, []);
      const userEdit = await user.from("operator_alert_settings").update({ threshold: 1 }).eq(
        "kind",
        "user_daily_cost",
      )
        .select();
      assert.deepEqual(userEdit.data, [], "RLS leaves a user no setting to edit");
      const userAck = await user.rpc("acknowledge_operator_alert", { alert_id: raised.new.id! });
      assert.equal(userAck.error?.code, "42501");
      assert.deepEqual((await anon.from("operator_alerts").select("id")).data, []);
      assert.deepEqual((await anon.from("usage_logs").select("id")).data, []);
      const anonAck = await anon.rpc("acknowledge_operator_alert", { alert_id: raised.new.id! });
      assert.equal(anonAck.error?.code, "42501");

      // The superadmin raises the threshold: the next check resolves the alert, which is kept.
      const edited = await admin.from("operator_alert_settings").update({ threshold: 100 })
        .eq("kind", "user_daily_cost").select("threshold, updated_by");
      assert.deepEqual(edited.data, [{ threshold: 100, updated_by: adminId }]);
      await checkAlerts();
      const resolved = await eventually(
        "the resolution through postgres_changes",
        () => adminChanges.find((p) => p.new.id === raised.new.id && p.new.status === "resolved"),
      );
      assert.ok(resolved.new.resolved_at);
      await eventually(
        "the resolution on operator:alerts",
        () =>
          adminBroadcasts.find((m) =>
            m.payload.record.id === raised.new.id && m.payload.record.status === "resolved"
          ),
      );
      const kept = await admin.from("operator_alerts").select("status, acknowledged_by").eq(
        "id",
        raised.new.id!,
      );
      assert.deepEqual(kept.data, [{ status: "resolved", acknowledged_by: adminId }]);

      // Everything above reached the superadmin; the user and the visitor got none of it.
      assert.deepEqual(seenByOthers, []);
    } finally {
      await Promise.all([admin, user, anon].map((supabase) => supabase.removeAllChannels()));
      await api.close();
      await withSql(async (sql) => {
        await sql`delete from realtime.messages
          where topic = 'operator:alerts' and payload -> 'record' ->> 'subject' = any(${users})`;
        for (const id of users) await deleteTestUser(sql, id);
        await sql`update public.operator_alert_settings set threshold = 50
          where kind = 'user_daily_cost'`;
      });
    }
  },
});
