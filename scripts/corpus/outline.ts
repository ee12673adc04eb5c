/** Prints the outline (two levels) a book file gives: deno run -A scripts/corpus/outline.ts FILE... (names under corpus/files). */
import { extractBook } from "../../supabase/functions/_shared/books/extract.ts";
const dir = new URL("../../supabase/functions/_shared/books/corpus/files/", import.meta.url).pathname;
for (const f of Deno.args) {
  const b = await extractBook(f, await Deno.readFile(dir + f));
  const o = b.outline ?? [];
  console.log(`== ${f} ${b.outlineSource} entries=${o.length} words=${b.text.split(/\s+/).length}`);
  for (const e of o.filter((e) => e.depth <= 1).slice(0, 60)) {
    console.log(`${"  ".repeat(e.depth)}${e.title.slice(0, 60)} @${e.start}`);
  }
}
