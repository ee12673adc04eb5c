/** Prints the chapters detected in corpus files: deno run -A scripts/corpus/chapters.ts FILE... */
import { extractBook } from "../../supabase/functions/_shared/books/extract.ts";
import { detectStructure } from "../../supabase/functions/_shared/books/structure.ts";
const dir = new URL("../../supabase/functions/_shared/books/corpus/files/", import.meta.url);
for (const f of Deno.args) {
  const b = await extractBook(f, await Deno.readFile(new URL(f, dir)));
  const s = detectStructure(b);
  console.log(`== ${f} ${s.detector} words=${b.text.split(/\s+/).length} matter=${JSON.stringify(s.matter)}`);
  for (const c of s.chapters) {
    console.log(`  ${c.title.slice(0, 70)} | ${c.partTitle ?? ""} | ${c.content.split(/\s+/).length}`);
  }
}
