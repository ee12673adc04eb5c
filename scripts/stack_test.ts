/** The local stack's bootstrap can be applied again (npm start, stack up) without widening privileges. */
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/db.ts";
import { withSql } from "../supabase/functions/_shared/testing.ts";

// The bootstrap is the superuser's (supabase_admin): npm test passes its URL for the local stack only.
const adminUrl = Deno.env.get("LOCAL_ADMIN_DB_URL");

Deno.test({
  name: "applying the bootstrap again leaves every privilege the migrations set as it was",
  ignore: !adminUrl,
}, async () => {
  await withSql(async (sql) => {
    const snapshot = async () =>
      (await sql`
        select n.nspname || '.' || c.relname as object, coalesce(c.relacl::text, '') as acl
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('public', 'private', 'storage') and c.relkind in ('r', 'v', 'S')
        union all
        select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
          coalesce(p.proacl::text, '')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('public', 'private')
        order by 1`).map((r) => `${r.object} ${r.acl}`);
    const before = await snapshot();
    const bootstrap = await Deno.readTextFile(new URL("./sql/bootstrap.sql", import.meta.url));
    const admin = createSql(adminUrl!, { max: 1 });
    try {
      await admin.unsafe(bootstrap);
    } finally {
      await admin.end({ timeout: 5 });
    }
    const after = await snapshot();
    assert.deepEqual(after.filter((line) => !before.includes(line)), [], "no privilege was added or changed");
    assert.equal(after.length, before.length);
  });
});
