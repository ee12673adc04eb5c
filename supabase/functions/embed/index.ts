import { sql } from "../_shared/db.ts";
import { handle, json } from "../_shared/http.ts";
import { contentProviders } from "../_shared/providers/content.ts";
import { runEmbed } from "./embed.ts";

Deno.serve(handle(async () => json(await runEmbed(sql(), contentProviders().embedder))));
