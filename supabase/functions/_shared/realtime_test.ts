/** What Realtime would stream, read from the same logical decoding it uses: a delete carries the key only. */
import assert from "node:assert/strict";
import { createTestUser, deleteTestUser, withSql } from "./testing.ts";

Deno.test("a delete on a published table streams the row's id and nothing else", async () => {
  await withSql(async (sql) => {
    const slot = `litinkai_test_${crypto.randomUUID().slice(0, 8)}`;
    const userId = await createTestUser(sql, "realtime-delete");
    await sql`select pg_create_logical_replication_slot(${slot}, 'test_decoding')`;
    try {
      const [{ id }] = await sql`
        insert into public.books (user_id, title, description) values (${userId}, 'A private title', 'secret plans')
        returning id`;
      await sql`delete from public.books where id = ${id}`;
      const changes = await sql<{ data: string }[]>`
        select data from pg_logical_slot_get_changes(${slot}, null, null) where data like 'table public.books:%'`;
      const deleted = changes.map((c) => c.data).filter((d) => d.includes("DELETE"));
      assert.equal(deleted.length, 1, changes.map((c) => c.data).join("\n"));
      assert.equal(deleted[0], `table public.books: DELETE: id[uuid]:'${id}'`);
      assert.ok(
        changes.some((c) => c.data.includes("INSERT") && c.data.includes("A private title")),
        "inserts carry rows",
      );
    } finally {
      await sql`select pg_drop_replication_slot(${slot})`;
      await deleteTestUser(sql, userId);
    }
  });
});
