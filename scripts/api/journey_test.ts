/**
 * A reader's whole journey through the official supabase-js client against the local stack, as a
 * frontend meets it: sign up, upload a real EPUB, process it, watch it become ready through
 * Realtime, make a video of a chapter while watching its private channel and postgres_changes, and
 * download the MP4 through Storage. A second user and an anonymous visitor watch and read alongside
 * and must get nothing of the first user's.
 */
import assert from "node:assert/strict";
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import type { Database } from "../../supabase/functions/_shared/database.types.ts";
import { withSql } from "../../supabase/functions/_shared/testing.ts";
import { waitFor, withRunner } from "../functions/runner_testing.ts";
import { ANON_KEY } from "./context.ts";

const API_PORT = 54641;
const API_URL = `http://127.0.0.1:${API_PORT}`;
const EPUB = new URL(
  "../../supabase/functions/_shared/books/corpus/files/debian-faq.calibre.epub",
  import.meta.url,
);
const STAGES = ["script", "images", "audio", "video", "lipsync", "merge"];

/** Typed by the generated database types, as our frontend uses them. */
type Client = SupabaseClient<Database>;

function client(): Client {
  return createClient<Database>(API_URL, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
}

/** Fails with the API's own message when a supabase-js call returned an error. */
function succeeded(error: { message: string } | null) {
  if (error) throw new Error(`the API answered an error: ${error.message}`);
}

/** The data of a supabase-js answer that must have succeeded. */
function dataOf<R extends { data: unknown; error: { message: string } | null }>(
  answer: R,
): NonNullable<R["data"]> {
  succeeded(answer.error);
  assert.ok(answer.data !== null && answer.data !== undefined, "the API answered no data");
  return answer.data as NonNullable<R["data"]>;
}

async function signUp(supabase: Client, label: string): Promise<string> {
  const email = `${label}-${crypto.randomUUID().slice(0, 8)}@journey.test`;
  const { data, error } = await supabase.auth.signUp({ email, password: "a long journey password" });
  succeeded(error);
  assert.ok(data.session, "the local stack confirms sign-ups at once");
  return data.user!.id;
}

/** Resolves when the channel is subscribed; rejects with the server's reason when it is refused. */
function subscribed(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.subscribe((status, err) => {
      if (status === "SUBSCRIBED") resolve();
      else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT" || status === "CLOSED") {
        reject(new Error(`${status}: ${err?.message ?? ""}`));
      }
    });
  });
}

Deno.test("a reader's journey through supabase-js: upload, process, watch, generate, download; others see nothing", async () => {
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-journey-" });
  const ann = client();
  const ben = client();
  const anon = client();
  const users: string[] = [];
  try {
    await withRunner(API_PORT, storageDir, async () => {
      const annId = await signUp(ann, "ann");
      const benId = await signUp(ben, "ben");
      users.push(annId, benId);

      // Ben and the anonymous visitor listen to everything they are allowed to.
      const seenByOthers: { who: string; table?: string; id?: string; topic?: string }[] = [];
      const eavesdrop = (who: string, supabase: Client) =>
        supabase.channel(`${who}-tables`)
          .on("postgres_changes", { event: "*", schema: "public", table: "books" }, (p) => {
            seenByOthers.push({ who, table: "books", id: String((p.new as { id?: string }).id ?? "") });
          })
          .on("postgres_changes", { event: "*", schema: "public", table: "video_generations" }, (p) => {
            seenByOthers.push({
              who,
              table: "video_generations",
              id: String((p.new as { id?: string }).id ?? ""),
            });
          });
      await subscribed(eavesdrop("ben", ben));
      await subscribed(eavesdrop("anon", anon));
      const benOwnChannel = ben.channel(`user:${benId}`, { config: { private: true } })
        .on(
          "broadcast",
          { event: "*" },
          (m) => seenByOthers.push({ who: "ben", topic: `user:${benId}:${m.event}` }),
        );
      await ben.realtime.setAuth();
      await subscribed(benOwnChannel);

      // Ann uploads a real EPUB (made by calibre) to her folder and registers the book.
      const epub = await Deno.readFile(EPUB);
      const path = `${annId}/debian-faq.epub`;
      const upload = await ann.storage.from("books").upload(path, epub, {
        contentType: "application/epub+zip",
      });
      succeeded(upload.error);
      const book = dataOf(
        await ann.from("books")
          .insert({
            title: "The Debian FAQ",
            file_url: path,
            source_file_type: "epub",
            source_file_size: epub.length,
          })
          .select("id, status, user_id").single(),
      );
      assert.equal(book.status, "draft");
      assert.equal(book.user_id, annId);

      // Ann watches her book through postgres_changes and her private user channel.
      const bookStatuses: string[] = [];
      const bookBroadcasts: string[] = [];
      const bookChannel = ann.channel("my-book")
        .on("postgres_changes", {
          event: "UPDATE",
          schema: "public",
          table: "books",
          filter: `id=eq.${book.id}`,
        }, (p) => {
          bookStatuses.push((p.new as { status: string }).status);
        });
      await subscribed(bookChannel);
      await ann.realtime.setAuth();
      const annChannel = ann.channel(`user:${annId}`, { config: { private: true } })
        .on("broadcast", { event: "UPDATE" }, (m) => {
          const record = m.payload?.record as { id?: string; status?: string } | undefined;
          if (record && record.id === book.id && record.status) bookBroadcasts.push(record.status);
        });
      await subscribed(annChannel);

      const { error: processError } = await ann.rpc("process_book", { book_id: book.id });
      succeeded(processError);
      await waitFor("the book to be ready (through Realtime)", 120_000, () => {
        if (bookStatuses.includes("failed")) throw new Error("the book failed to process");
        return bookStatuses.includes("ready") ? true : undefined;
      });
      await waitFor("the ready broadcast", 10_000, () => bookBroadcasts.includes("ready") ? true : undefined);
      assert.ok(bookStatuses.indexOf("processing") < bookStatuses.indexOf("ready"));

      const chapters = dataOf(
        await ann.from("chapters")
          .select("id, chapter_number, title, content").eq("book_id", book.id).order("chapter_number"),
      );
      assert.ok(chapters!.length >= 5, `the FAQ's chapters were found (${chapters!.length})`);
      // The shortest chapter keeps the video short.
      const chapter = chapters!.reduce((a, b) => (b.content.length < a.content.length ? b : a));

      // Ann starts a video and watches its private channel and postgres_changes to 100%.
      const generationId = dataOf(
        await ann.rpc("start_video_generation", {
          chapter_id: chapter.id,
        }),
      );
      const broadcastProgress: number[] = [];
      const broadcastSteps = new Set<string>();
      const changedProgress: number[] = [];
      const generationChannel = ann.channel(`generation:${generationId}`, { config: { private: true } })
        .on("broadcast", { event: "*" }, (m) => {
          const record = m.payload?.record as {
            progress_percentage: number;
            current_step?: string;
            status: string;
          };
          broadcastProgress.push(record.progress_percentage);
          if (record.current_step) broadcastSteps.add(record.current_step);
          if (record.status) broadcastSteps.add(record.status);
        });
      await subscribed(generationChannel);
      const changesChannel = ann.channel("my-generation")
        .on("postgres_changes", {
          event: "UPDATE",
          schema: "public",
          table: "video_generations",
          filter: `id=eq.${generationId}`,
        }, (p) => changedProgress.push((p.new as { progress_percentage: number }).progress_percentage));
      await subscribed(changesChannel);

      const status = await waitFor("the generation to finish", 240_000, async () => {
        const { data } = await ann.from("video_generations").select("status, error_message").eq(
          "id",
          generationId,
        )
          .single();
        return ["completed", "failed", "canceled"].includes(data!.status) ? data! : undefined;
      });
      assert.equal(status.status, "completed", status.error_message ?? "");
      await waitFor(
        "100% through the private channel",
        10_000,
        () => broadcastProgress.includes(100) ? true : undefined,
      );
      await waitFor(
        "100% through postgres_changes",
        10_000,
        () => changedProgress.includes(100) ? true : undefined,
      );
      for (const stage of STAGES) {
        assert.ok(broadcastSteps.has(stage), `the private channel showed the ${stage} stage`);
      }
      assert.deepEqual(
        broadcastProgress,
        [...broadcastProgress].sort((a, b) => a - b),
        "progress never goes back",
      );

      // The MP4 through Storage, with Ann's token.
      const { data: merge } = await ann.from("merge_jobs").select("storage_path").eq(
        "video_generation_id",
        generationId,
      )
        .single();
      const mp4Path = merge!.storage_path!;
      const { data: mp4, error: downloadError } = await ann.storage.from("media").download(mp4Path);
      succeeded(downloadError);
      const bytes = new Uint8Array(await mp4!.arrayBuffer());
      assert.equal(new TextDecoder().decode(bytes.slice(4, 8)), "ftyp", "an MP4 file");

      // Ben and the anonymous visitor: no events, no rows, no files, no channel of Ann's.
      const annIds = new Set([book.id, generationId]);
      assert.deepEqual(
        seenByOthers.filter((e) => (e.id && annIds.has(e.id)) || e.topic?.includes(annId)),
        [],
      );
      const bookId: string = book.id;
      const seesNothing = async (who: string, supabase: Client) => {
        const books = await supabase.from("books").select("id").eq("id", bookId);
        assert.deepEqual(books.data, [], `${who} reads none of Ann's books`);
        const generations = await supabase.from("video_generations").select("id").eq("id", generationId);
        assert.deepEqual(generations.data, [], `${who} reads none of Ann's generations`);
        const chaptersSeen = await supabase.from("chapters").select("id").eq("book_id", bookId);
        assert.deepEqual(chaptersSeen.data, [], `${who} reads none of Ann's chapters`);
        const file = await supabase.storage.from("media").download(mp4Path);
        assert.ok(file.error, `${who} downloads none of Ann's files`);
        const epubFile = await supabase.storage.from("books").download(path);
        assert.ok(epubFile.error, `${who} downloads none of Ann's uploads`);
        const refused = supabase.channel(`generation:${generationId}`, { config: { private: true } });
        await assert.rejects(
          subscribed(refused),
          /Unauthorized|CHANNEL_ERROR/,
          `${who} may not join Ann's channel`,
        );
        await supabase.removeChannel(refused);
      };
      await seesNothing("ben", ben);
      await seesNothing("anon", anon);
      const process = await ben.rpc("process_book", { book_id: book.id });
      assert.ok(process.error, "Ben cannot process Ann's book");
    });
  } finally {
    for (const supabase of [ann, ben, anon]) {
      await supabase.removeAllChannels();
      supabase.realtime.disconnect();
    }
    await withSql(async (sql) => {
      if (users.length) await sql`delete from auth.users where id = any(${users})`;
    });
    await Deno.remove(storageDir, { recursive: true });
  }
});
