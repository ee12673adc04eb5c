/**
 * The scheduled jobs run on the local stack: pg_cron runs them in background workers (no password
 * needed), so the reaper, the rollups, the billing-period reset and the archive purge are alive here.
 */
import assert from "node:assert/strict";
import { withSql } from "./testing.ts";

Deno.test("pg_cron runs the every-minute reaper on the local stack, and no scheduled job fails", async () => {
  await withSql(async (sql) => {
    const jobs = await sql`select jobname from cron.job order by jobname`;
    assert.deepEqual(
      jobs.map((j) => j.jobname),
      [
        "billing-period-reset",
        "daily-rollups",
        "library-search-indexes",
        "operator-alerts",
        "purge-cost-reservations",
        "purge-queue-archives",
        "purge-rate-limit-windows",
        "reap-stuck-generations",
      ],
    );
    // The reaper runs at the start of every minute: at most a minute after the database was created.
    const deadline = Date.now() + 75_000;
    let run: { status: string; return_message: string } | undefined;
    while (!run && Date.now() < deadline) {
      [run] = await sql<{ status: string; return_message: string }[]>`
        select d.status, d.return_message from cron.job_run_details d join cron.job j using (jobid)
        where j.jobname = 'reap-stuck-generations' order by d.start_time desc limit 1`;
      if (!run || run.status === "running" || run.status === "starting") {
        run = undefined;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    assert.ok(run, "the reaper has run within a minute");
    assert.equal(run.status, "succeeded", run.return_message);
    const failures = await sql`
      select j.jobname, d.return_message from cron.job_run_details d join cron.job j using (jobid)
      where d.status = 'failed'`;
    assert.deepEqual([...failures], [], "no scheduled job failed");
  });
});
