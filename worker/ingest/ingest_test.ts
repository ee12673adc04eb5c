/** Ingestion through the real queue and SQL: fixture books in every format, and bad input. */
import assert from "node:assert/strict";
import {
  blankPdf,
  deflatedBomb,
  DOCX_TEXT_OPENING,
  docxFiles,
  makeDocx,
  makeEpub,
  makePdf,
  prose,
  zipOf,
} from "../../supabase/functions/_shared/books/test_fixtures.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { offlineContent } from "../../supabase/functions/_shared/providers/content.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { asUser, createTestUser, deleteTestUser, withSql } from "../../supabase/functions/_shared/testing.ts";
import { runIngest } from "./ingest.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function uploadBook(
  sql: Sql,
  storage: LocalStorage,
  userId: string,
  fileName: string,
  bytes: Uint8Array,
  bookType: "learning" | "entertainment" = "entertainment",
): Promise<string> {
  const path = `${userId}/${crypto.randomUUID()}/${fileName}`;
  await storage.put("books", path, bytes, "application/octet-stream");
  return await asUser(sql, userId, async (tx) => {
    const [{ id }] = await tx<{ id: string }[]>`
      insert into public.books (title, file_url, source_file_size, book_type)
      values (${fileName}, ${path}, ${bytes.length}, ${bookType}) returning id`;
    await tx`select public.process_book(${id})`;
    return id;
  });
}

async function withIngest(body: (ctx: { sql: Sql; storage: LocalStorage; userId: string }) => Promise<void>) {
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-ingest-" });
    const userId = await createTestUser(sql, "ingest");
    try {
      await body({ sql, storage: new LocalStorage(sql, dir, "http://127.0.0.1:54321"), userId });
    } finally {
      await deleteTestUser(sql, userId);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const CHAPTERS = [
  {
    title: "The Storm",
    paragraphs: ["Mara climbed the tower while the wind rose.", '"Hold the rail," said Tomas.'],
  },
  { title: "The Lamp", paragraphs: ["Tomas lit the lamp at night and trimmed the wick."] },
];

Deno.test("fixture books in every format become ready books with the expected chapters", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const txt =
      "Chapter I\n\nThe Storm\n\nMara climbed the tower.\n\nChapter II\n\nThe Lamp\n\nTomas lit the lamp.\n\n" +
      "Chapter III\n\nThe Boat\n\nA boat came at dawn.";
    const books = {
      "book.txt": {
        bytes: enc(txt),
        titles: ["Chapter I: The Storm", "Chapter II: The Lamp", "Chapter III: The Boat"],
        method: "ai",
      },
      "book.epub": { bytes: makeEpub(CHAPTERS), titles: ["The Storm", "The Lamp"], method: "toc" },
      "book.pdf": {
        bytes: await makePdf([["Mara climbed."], ["Tomas lit the lamp."]], {
          outline: [{ title: "The Storm", page: 0 }, { title: "The Lamp", page: 1 }],
        }),
        titles: ["The Storm", "The Lamp"],
        method: "toc",
      },
      "book.docx": {
        bytes: makeDocx([{ heading: 1, text: "The Storm" }, { text: "Mara climbed." }, {
          heading: 1,
          text: "The Lamp",
        }, { text: "Tomas." }]),
        titles: ["The Storm", "The Lamp"],
        method: "toc",
      },
      "plain.txt": { bytes: enc(prose(7000)), titles: ["Part 1", "Part 2"], method: "ai" },
    };
    const ids: Record<string, string> = {};
    for (const [name, book] of Object.entries(books)) {
      ids[name] = await uploadBook(sql, storage, userId, name, book.bytes);
    }
    const summary = await runIngest({ sql, storage, content: offlineContent });
    assert.deepEqual(summary.failures, []);
    const [progress] =
      await sql`select books_uploaded, total_xp from public.user_progress where user_id = ${userId}`;
    assert.equal(
      progress.books_uploaded,
      Object.keys(books).length,
      "each ready book counts in the owner's progress",
    );

    for (const [name, book] of Object.entries(books)) {
      const [row] = await sql`select * from public.books where id = ${ids[name]}`;
      assert.equal(row.status, "ready", `${name}: ${JSON.stringify(row.metadata)}`);
      assert.equal(row.progress_percentage, 100);
      assert.ok(row.processing_completed_at >= row.processing_started_at);
      const chapters = await sql`
        select title, word_count, duration, summary, ai_content from public.chapters
        where book_id = ${ids[name]} order by chapter_number`;
      assert.deepEqual(chapters.map((c) => c.title), book.titles, name);
      assert.equal(row.total_chapters, book.titles.length);
      assert.equal(row.word_count, chapters.reduce((s, c) => s + c.word_count, 0));
      for (const c of chapters) {
        assert.equal(c.duration, Math.ceil(c.word_count / 238), "reading minutes at 238 wpm");
        assert.equal(c.ai_content.kind, "entertainment");
        assert.ok(c.summary.length > 0);
      }
      const [structure] = await sql`select * from public.book_structure where book_id = ${ids[name]}`;
      assert.equal(structure.extraction_method, book.method, name);
      assert.equal(structure.structure_data.chapters.length, book.titles.length);
    }
    const [{ logged }] = await sql`
      select count(*)::integer as logged from public.usage_logs where user_id = ${userId} and idempotency_key like 'ingest:%'`;
    assert.equal(logged, Object.keys(books).length, "one usage row per book and model");
    const [{ queued }] = await sql`
      select count(*)::integer as queued from pgmq.q_embed q join public.chapters c on c.id = (q.message ->> 'chapter_id')::uuid
      join public.books b on b.id = c.book_id where b.user_id = ${userId}`;
    assert.equal(queued, 11, "every new chapter is queued for embedding");
  });
});

Deno.test("a learning book gets objectives, key concepts and a five-question quiz per chapter", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const lesson = "Chapter 1\n\n" +
      "A lighthouse guides ships along dangerous coasts. The beam comes from a lamp inside a lens. " +
      "The Fresnel lens bends light into a narrow beam. Mirrors once reflected the light and much of it was lost. " +
      "Keepers trimmed the wick and cleaned the lens every morning. A keeper recorded the weather in a logbook. " +
      "Ships identify each lighthouse by the pattern of its beam. Fog signals warn ships when the beam cannot be seen.";
    const id = await uploadBook(sql, storage, userId, "lesson.txt", enc(lesson), "learning");
    await runIngest({ sql, storage, content: offlineContent });
    const [chapter] = await sql`select ai_content from public.chapters where book_id = ${id}`;
    assert.equal(chapter.ai_content.kind, "learning");
    assert.equal(chapter.ai_content.quiz.length, 5);
    assert.ok(chapter.ai_content.learning_objectives.length >= 2);
    assert.ok(chapter.ai_content.key_concepts.length >= 3);
  });
});

type QuizReply = { first_attempt: boolean; xp_awarded: number; questions: { correct_answer: number }[] };

Deno.test("the same file deleted and processed again ten times, every quiz answered, earns one round's rewards", async () => {
  await withIngest(async ({ sql, storage, userId: farmer }) => {
    const lesson = enc(
      "Chapter 1\n\n" +
        "A lighthouse guides ships along dangerous coasts. The beam comes from a lamp inside a lens. " +
        "The Fresnel lens bends light into a narrow beam. Mirrors once reflected the light and much of it was lost. " +
        "Keepers trimmed the wick and cleaned the lens every morning. A keeper recorded the weather in a logbook.\n\n" +
        "Chapter 2\n\n" +
        "Tides rise and fall twice a day as the moon pulls the oceans. Sailors read tide tables before leaving harbour. " +
        "Spring tides follow the full moon and the new moon. Neap tides come between them and the water moves less. " +
        "Harbour walls shelter boats from the swell when the tide turns.",
    );
    // Answers learned from the replies, by question; the first round's from the key, as a reader who
    // knows the chapter would give them.
    const learned = new Map<string, number>();
    const round = async (reader: string) => {
      const bookId = await uploadBook(sql, storage, reader, "lesson.txt", lesson, "learning");
      await runIngest({ sql, storage, content: offlineContent });
      const chapters = await asUser(
        sql,
        reader,
        (tx) =>
          tx<{ id: string; quiz: { question: string }[] }[]>`
            select id, ai_content -> 'quiz' as quiz from public.chapters where book_id = ${bookId} order by chapter_number`,
      );
      assert.equal(chapters.length, 2);
      for (const chapter of chapters) {
        assert.ok(chapter.quiz.length > 0);
        assert.ok(
          chapter.quiz.every((q) => !("answer_index" in q) && !("explanation" in q)),
          "the owner reads the quiz without its answers",
        );
        if (!learned.has(chapter.quiz[0].question)) {
          const [{ answers }] = await sql<{ answers: { answer_index: number }[] }[]>`
            select answers from private.quiz_answer_keys where chapter_id = ${chapter.id}`;
          chapter.quiz.forEach((q, i) => learned.set(q.question, answers[i].answer_index));
        }
        const answers = chapter.quiz.map((q) => learned.get(q.question) ?? 0);
        const [{ reply }] = await asUser(
          sql,
          reader,
          (tx) =>
            tx<{ reply: QuizReply }[]>`select public.submit_quiz(${chapter.id}, ${
              sql.json(answers)
            }) as reply`,
        );
        chapter.quiz.forEach((q, i) => learned.set(q.question, reply.questions[i].correct_answer));
      }
      await asUser(sql, reader, (tx) => tx`delete from public.books where id = ${bookId}`);
    };
    const progress = async (reader: string) => {
      const [row] = await sql`
        select p.books_uploaded, p.videos_created, p.quizzes_completed, p.total_xp, p.level,
          (select array_agg(k order by k) from jsonb_object_keys(p.achievements) k) as achievements,
          (select array_agg(b.name order by b.name) from public.user_badges u join public.badges b on b.id = u.badge_id
           where u.user_id = p.user_id) as badges
        from public.user_progress p where p.user_id = ${reader}`;
      return row;
    };

    const once = await createTestUser(sql, "ingest-once");
    try {
      await round(once);
      for (let i = 0; i < 10; i++) await round(farmer);
      const [one, ten] = [await progress(once), await progress(farmer)];
      assert.deepEqual(ten, one, "ten rounds earn what one round does");
      assert.deepEqual(
        [ten.books_uploaded, ten.quizzes_completed, ten.badges],
        [1, 2, ["First Book", "First Steps Scholar", "Flawless"]],
      );
      assert.equal(
        ten.total_xp,
        50 + 10 + 2 * (30 + 20) + 10 + 40,
        "one book, two perfect quizzes and three badges",
      );
      const [{ books }] =
        await sql`select count(*)::integer as books from public.books where user_id = ${farmer}`;
      assert.equal(books, 0, "every round's book was deleted");
    } finally {
      await deleteTestUser(sql, once);
    }
  });
});

Deno.test("bad files fail the book with a clear error and leave no chapters", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const bad: Record<string, [Uint8Array, RegExp]> = {
      "empty.txt": [new Uint8Array(), /empty/],
      "binary.txt": [new Uint8Array(2048).map((_, i) => (i % 5 === 0 ? 0 : i % 200)), /binary/],
      "broken.pdf": [enc("%PDF-1.4\ngarbage"), /not a valid PDF/],
      "locked.pdf": [await makePdf([["x"]], { encrypt: true }), /encrypted/],
      "fake.epub": [enc("plain text pretending"), /not a readable zip archive/],
      "blank.docx": [makeDocx([]), /no text/],
    };
    const ids: Record<string, string> = {};
    for (const [name, [bytes]] of Object.entries(bad)) {
      ids[name] = await uploadBook(sql, storage, userId, name, bytes);
    }
    const summary = await runIngest({ sql, storage, content: offlineContent });
    assert.equal(summary.failed, Object.keys(bad).length);
    for (const [name, [, message]] of Object.entries(bad)) {
      const [row] = await sql`select status, metadata from public.books where id = ${ids[name]}`;
      assert.equal(row.status, "failed", name);
      assert.match(row.metadata.error.message, message, name);
      assert.ok(
        summary.failures.some((f) => f.book_id === ids[name] && message.test(f.error)),
        `${name} in the response`,
      );
      const [{ n }] = await sql`select count(*)::integer as n from public.chapters where book_id = ${
        ids[name]
      }`;
      assert.equal(n, 0, `${name} left no chapters`);
      const [{ s }] = await sql`select count(*)::integer as s from public.book_structure where book_id = ${
        ids[name]
      }`;
      assert.equal(s, 0);
    }
    const [{ archived }] = await sql`
      select count(*)::integer as archived from pgmq.a_ingest where message ->> 'book_id' = any(${
      Object.values(ids)
    })`;
    assert.equal(archived, Object.keys(bad).length, "failed messages are archived, not lost");

    // A failed book can be processed again once a good file is in place.
    const retry = ids["empty.txt"];
    const [{ file_url }] = await sql`select file_url from public.books where id = ${retry}`;
    await storage.put("books", file_url, enc("Chapter 1\n\nNow there is text."), "text/plain");
    await asUser(sql, userId, (tx) => tx`select public.process_book(${retry})`);
    await runIngest({ sql, storage, content: offlineContent });
    const [row] = await sql`select status, metadata, total_chapters from public.books where id = ${retry}`;
    assert.equal(row.status, "ready");
    assert.equal(row.total_chapters, 1);
    assert.equal(row.metadata.error, undefined, "the old error is cleared");
  });
});

Deno.test("upload bombs fail their own book with a clear error while another user's book is read", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const other = await createTestUser(sql, "ingest-neighbour");
    try {
      // A DOCX whose zip declares 100 bytes and would inflate to 2 GiB, and a PDF of 300 blank pages.
      const bombs = {
        docx: await uploadBook(
          sql,
          storage,
          userId,
          "bomb.docx",
          zipOf(docxFiles([]), {
            "word/document.xml": {
              ...deflatedBomb(DOCX_TEXT_OPENING, 2 * 1024 ** 3, "<!-- -->"),
              declared: 100,
            },
          }),
        ),
        pdf: await uploadBook(sql, storage, userId, "blank.pdf", await blankPdf(300)),
      };
      const good = await uploadBook(
        sql,
        storage,
        other,
        "good.txt",
        enc("Chapter 1\n\nA quiet harbour at dawn."),
      );
      const summary = await runIngest({
        sql,
        storage,
        content: offlineContent,
        limits: { maxPdfPages: 250 },
      });
      assert.deepEqual(
        [summary.completed, summary.failed, summary.retried],
        [1, 2, 0],
        "no retries of a bomb",
      );
      const rows =
        await sql`select id, status::text, metadata -> 'error' ->> 'message' as error from public.books
        where id = any(${[bombs.docx, bombs.pdf, good]})`;
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
      assert.equal(byId[good].status, "ready", "the other user's book was read");
      assert.equal(byId[bombs.docx].status, "failed");
      assert.match(
        byId[bombs.docx].error,
        /DOCX is damaged or a zip bomb: word\/document.xml inflates to more/,
      );
      assert.match(byId[bombs.pdf].error, /the PDF has 300 pages; the limit is 250/);
    } finally {
      await deleteTestUser(sql, other);
    }
  });
});

Deno.test("the worker reads only an object its owner uploaded, whatever the book row says", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const other = await createTestUser(sql, "ingest-victim");
    try {
      const id = await uploadBook(sql, storage, userId, "mine.txt", enc("Chapter 1\n\nMine."));
      // The victim's upload, and the book pointed at it behind process_book's back.
      const secret = `${other}/secret.txt`;
      await storage.put("books", secret, enc("Chapter 1\n\nThe victim's private notes."), "text/plain");
      await sql`update public.books set file_url = ${secret} where id = ${id}`;
      const summary = await runIngest({ sql, storage, content: offlineContent });
      assert.equal(summary.failed, 1);
      const [row] =
        await sql`select status::text, metadata -> 'error' ->> 'message' as error from public.books where id = ${id}`;
      assert.deepEqual(row, { status: "failed", error: `books/${secret} is not among the owner's uploads` });
      const [{ n }] = await sql`select count(*)::int as n from public.chapters where book_id = ${id}`;
      assert.equal(n, 0, "nothing of the victim's file was read");
    } finally {
      await deleteTestUser(sql, other);
    }
  });
});

Deno.test("a worker that dies mid-ingest leaves the book to the next read; a replay does nothing", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const id = await uploadBook(
      sql,
      storage,
      userId,
      "book.txt",
      enc("Chapter 1\n\nMara.\n\nChapter 2\n\nTomas."),
    );
    // The dead worker: it read the message (vt 0 so it is visible again at once) and never finished.
    const [msg] = await sql`select msg_id from pgmq.read('ingest', 0, 1) where message ->> 'book_id' = ${id}`;
    assert.ok(msg, "the message was there to read");
    await runIngest({ sql, storage, content: offlineContent });
    const [{ n }] = await sql`select count(*)::integer as n from public.chapters where book_id = ${id}`;
    assert.equal(n, 2);
    const [{ done }] =
      await sql`select private.complete_book_ingest(${msg.msg_id}, ${id}, '{}'::jsonb, '[]'::jsonb) as done`;
    assert.equal(done, false, "a late completion of a ready book changes nothing");
    const [{ still }] =
      await sql`select count(*)::integer as still from public.chapters where book_id = ${id}`;
    assert.equal(still, 2);
  });
});

Deno.test("front matter is recorded, not a chapter, until the owner confirms it as one", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const text =
      "The Lighthouse Book\n\nA story of the coast, told in three parts by the keeper's daughter.\n\n" +
      "Chapter 1\n\nMara climbed the tower.\n\nChapter 2\n\nTomas lit the lamp.";
    const id = await uploadBook(sql, storage, userId, "front.txt", enc(text));
    await runIngest({ sql, storage, content: offlineContent });
    const titles = async () =>
      (await sql`select title from public.chapters where book_id = ${id} order by chapter_number`).map((c) =>
        c.title
      );
    assert.deepEqual(await titles(), ["Chapter 1", "Chapter 2"]);
    const [{ structure_data: data }] =
      await sql`select structure_data from public.book_structure where book_id = ${id}`;
    assert.deepEqual(data.matter.map((m: { title: string; words: number }) => [m.title, m.words]), [[
      "Front matter",
      16,
    ]]);
    await asUser(
      sql,
      userId,
      (tx) =>
        tx`select public.confirm_book_structure(${id}, ${
          sql.json([{ title: "Foreword", matter: 0 }, { title: "Chapter 1", chapters: [1] }, {
            title: "Chapter 2",
            chapters: [2],
          }])
        })`,
    );
    assert.deepEqual(await titles(), ["Foreword", "Chapter 1", "Chapter 2"]);
    const [first] =
      await sql`select content from public.chapters where book_id = ${id} and chapter_number = 1`;
    assert.match(first.content, /told in three parts/);
    await assert.rejects(
      asUser(
        sql,
        userId,
        (tx) => tx`select public.confirm_book_structure(${id}, ${sql.json([{ title: "X", matter: 5 }])})`,
      ),
      /names matter the book does not have/,
    );
  });
});

Deno.test("confirm_book_structure renames, merges, splits and drops chapters; others cannot", async () => {
  await withIngest(async ({ sql, storage, userId }) => {
    const text =
      "Chapter 1\n\nOne a.\n\nOne b.\n\nChapter 2\n\nTwo.\n\nChapter 3\n\nThree.\n\nChapter 4\n\nFour.";
    const id = await uploadBook(sql, storage, userId, "book.txt", enc(text));
    await runIngest({ sql, storage, content: offlineContent });
    const structure = [
      { title: "Opening", chapter: 1, paragraphs: [1, 1] },
      { title: "Opening, continued", chapter: 1, paragraphs: [2, 2] },
      { title: "Two and Three", chapters: [2, 3] },
    ];
    const other = await createTestUser(sql, "intruder");
    try {
      await assert.rejects(
        asUser(sql, other, (tx) => tx`select public.confirm_book_structure(${id}, ${sql.json(structure)})`),
        /not found among yours/,
      );
    } finally {
      await deleteTestUser(sql, other);
    }
    await assert.rejects(
      asUser(
        sql,
        userId,
        (tx) => tx`select public.confirm_book_structure(${id}, ${sql.json([{ title: "X", chapters: [9] }])})`,
      ),
      /names a chapter the book does not have/,
    );
    await asUser(
      sql,
      userId,
      (tx) => tx`select public.confirm_book_structure(${id}, ${sql.json(structure)})`,
    );
    const chapters =
      await sql`select chapter_number, title, content from public.chapters where book_id = ${id} order by 1`;
    assert.deepEqual(chapters.map((c) => [c.title, c.content]), [
      ["Opening", "One a."],
      ["Opening, continued", "One b."],
      ["Two and Three", "Two.\n\nThree."],
    ]);
    const [s] =
      await sql`select extraction_method, confirmed_at from public.book_structure where book_id = ${id}`;
    assert.equal(s.extraction_method, "manual");
    assert.ok(s.confirmed_at);
    const [book] = await sql`select total_chapters from public.books where id = ${id}`;
    assert.equal(book.total_chapters, 3, "chapter four was dropped");
  });
});
