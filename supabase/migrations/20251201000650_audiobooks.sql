-- Audiobook exports: a chapter's or a whole book's narration as one M4B or MP3 file with chapter
-- markers (and the book's cover), made by the worker service from the audio the pipeline made for a
-- chapter's latest completed video or from speech made for the export, and watched by its owner.
create type public.audiobook_format as enum ('m4b', 'mp3');
-- Where a chapter's narration comes from: its latest completed video's audio, speech made for the
-- export at the quality's voice, or the first where the chapter has one and the second otherwise.
create type public.audiobook_source as enum ('auto', 'generation', 'narration');

create table public.audiobook_exports (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  book_id uuid not null references public.books (id) on delete cascade,
  -- The chapter exported; null for the whole book.
  chapter_id uuid references public.chapters (id) on delete cascade,
  format public.audiobook_format not null,
  source public.audiobook_source not null,
  quality_tier public.quality_tier not null,
  -- The ladder's voice at that quality, for what is spoken for the export.
  voice_model text not null,
  status public.processing_status not null default 'pending',
  progress_percentage integer not null default 0,
  total_chapters integer not null,
  -- Chapters whose narration is ready (a video's from the start; spoken ones once spoken).
  completed_chapters integer not null default 0,
  -- Characters spoken for the export (the chapters without a video's narration).
  speech_characters integer not null default 0,
  -- The cover in the `covers` bucket the file carries (books.cover_url, when it names one of the owner's).
  cover_path text,
  -- The file in the `media` bucket (<user_id>/exports/<id>/audiobook.<format>), once made.
  storage_path text,
  file_url text,
  duration_ms integer,
  size_bytes bigint,
  -- The file's chapter markers: [{position, chapter_id, chapter_number, title, source, start_ms, end_ms}].
  chapters jsonb not null default '[]',
  -- The sum of the usage logged for it (usage_logs.job_id).
  cost_usd numeric(12, 6) not null default 0,
  -- Times the file's assembly began.
  attempts integer not null default 0,
  error_message text,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint audiobook_exports_progress_range check (progress_percentage between 0 and 100),
  constraint audiobook_exports_chapter_counts check (total_chapters > 0
    and completed_chapters between 0 and total_chapters),
  constraint audiobook_exports_non_negative check (speech_characters >= 0 and cost_usd >= 0 and attempts >= 0
    and duration_ms >= 0 and size_bytes >= 0),
  constraint audiobook_exports_completed_has_file check (status <> 'completed' or storage_path is not null),
  constraint audiobook_exports_failed_has_error check (status <> 'failed' or error_message is not null)
);
comment on table public.audiobook_exports is 'A chapter or book exported as one audiobook file, and the export''s progress.';
create index audiobook_exports_user_id_created_at_idx on public.audiobook_exports (user_id, created_at desc);
create index audiobook_exports_book_id_idx on public.audiobook_exports (book_id);
create index audiobook_exports_chapter_id_idx on public.audiobook_exports (chapter_id);
-- One export of the same book or chapter in the same format under way at a time.
create unique index audiobook_exports_one_running on public.audiobook_exports (book_id, chapter_id, format)
  nulls not distinct where status in ('pending', 'processing');
create trigger audiobook_exports_set_updated_at before update on public.audiobook_exports
  for each row execute function private.set_updated_at();

-- pending -> processing -> completed, and failed from either; nothing leaves completed or failed.
create or replace function private.guard_audiobook_export_status()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status and not (
       (old.status = 'pending' and new.status in ('processing', 'failed'))
       or (old.status = 'processing' and new.status in ('completed', 'failed'))) then
    raise exception 'an audiobook export cannot go from % to %', old.status, new.status using errcode = '23514';
  end if;
  return new;
end;
$$;
revoke all on function private.guard_audiobook_export_status() from public, anon, authenticated;
create trigger audiobook_exports_guard_status before update of status on public.audiobook_exports
  for each row execute function private.guard_audiobook_export_status();

alter table public.audiobook_exports enable row level security;
revoke all on public.audiobook_exports from anon;
revoke insert, update, delete on public.audiobook_exports from authenticated;
create policy "owners read their audiobook exports" on public.audiobook_exports
  for select to authenticated using (user_id = (select auth.uid()));
-- Clients watch an export's progress through Realtime (RLS applies).
alter publication supabase_realtime add table public.audiobook_exports;

-- An export's chapters, in the file's order: where each one's narration comes from, and the
-- narration spoken for it so far.
create table private.audiobook_export_chapters (
  export_id uuid not null references public.audiobook_exports (id) on delete cascade,
  position integer not null,
  chapter_id uuid references public.chapters (id) on delete set null,
  chapter_number integer not null,
  title text not null,
  source text not null,
  -- generation: the video whose audio is used (its files outlive its row), and its scene tracks in
  -- order [{storage_path, duration_ms}].
  generation_id uuid,
  tracks jsonb,
  -- narration: the characters to speak and the fingerprint of the text they were counted from, and
  -- the segments spoken so far [{segment, storage_path, duration_ms, characters}].
  characters integer not null default 0,
  text_hash text,
  segments jsonb not null default '[]',
  status public.processing_status not null default 'pending',
  duration_ms integer,
  attempts integer not null default 0,
  last_error text,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (export_id, position),
  constraint audiobook_export_chapters_source_known check (source in ('generation', 'narration')),
  constraint audiobook_export_chapters_position_positive check (position > 0),
  constraint audiobook_export_chapters_non_negative check (characters >= 0 and attempts >= 0 and duration_ms >= 0)
);
comment on table private.audiobook_export_chapters is 'The chapters of an audiobook export and the narration made for each.';
create index audiobook_export_chapters_chapter_id_idx on private.audiobook_export_chapters (chapter_id);
create trigger audiobook_export_chapters_set_updated_at before update on private.audiobook_export_chapters
  for each row execute function private.set_updated_at();
alter table private.audiobook_export_chapters enable row level security;

select pgmq.create('audiobook_export') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'audiobook_export');
insert into private.rate_limits (action, max_calls, per_seconds) values ('audiobook_export', 20, 3600)
on conflict (action) do nothing;

-- What is spoken for a chapter: its title, then its text.
create or replace function private.audiobook_narration_text(p_title text, p_content text)
returns text
language sql
immutable
set search_path = ''
as $$ select pg_catalog.btrim(p_title) || E'\n\n' || pg_catalog.btrim(coalesce(p_content, '')) $$;

-- The export's cost so far: the usage logged for it.
create or replace function private.audiobook_export_cost(p_export_id uuid)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$ select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l where l.job_id = p_export_id $$;

-- Characters spoken so far: the chapters done and the segments saved of those under way.
create or replace function private.audiobook_spoken_characters(p_export_id uuid)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.sum(case when u.status = 'completed' then u.characters
      else (select coalesce(pg_catalog.sum((s ->> 'characters')::integer), 0)
            from pg_catalog.jsonb_array_elements(u.segments) s) end), 0)::integer
  from private.audiobook_export_chapters u where u.export_id = p_export_id and u.source = 'narration'
$$;

-- Queues the making of the file (every chapter's narration is ready).
create or replace function private.queue_audiobook_assembly(p_export_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  select pgmq.send('audiobook_export', pg_catalog.jsonb_build_object('export_id', p_export_id, 'assemble', true,
    'seconds', (select pg_catalog.ceil(coalesce(pg_catalog.sum(u.duration_ms), 0) / 1000.0)::integer
                from private.audiobook_export_chapters u where u.export_id = p_export_id)));
  select private.wake_queue_workers('audiobook_export');
$$;

-- Client RPC: export a chapter (or the whole book, without chapter_id) of one of your ready books as
-- an M4B or MP3 file. Each chapter's narration comes from `source`; what is spoken for the export
-- uses the voice of `quality_tier` (your tier's by default), within that quality's export ceilings
-- and your billing period's budget. Returns the export's id; watch its row for progress.
create or replace function public.start_audiobook_export(
  book_id uuid,
  chapter_id uuid default null,
  format public.audiobook_format default 'm4b',
  source public.audiobook_source default 'auto',
  quality_tier public.quality_tier default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  book public.books;
  subscription public.user_subscriptions;
  allowed_quality public.quality_tier;
  quality public.quality_tier;
  voice text;
  ceilings private.tier_ceilings;
  cover text;
  new_id uuid;
  lacking record;
  chapters_count integer;
  narrated integer;
  video_seconds numeric;
  seconds numeric;
  budget record;
  spent numeric;
  expected numeric;
begin
  if caller is null then
    raise exception 'sign in to export audiobooks' using errcode = '42501';
  end if;
  if start_audiobook_export.book_id is null or start_audiobook_export.format is null
     or start_audiobook_export.source is null then
    raise exception 'book_id, format and source are required' using errcode = '22023';
  end if;
  perform private.take_rate_limit('audiobook_export');
  select * into book from public.books b where b.id = start_audiobook_export.book_id;
  if not found or book.user_id <> caller then
    raise exception 'book % not found among yours', start_audiobook_export.book_id using errcode = 'P0002';
  end if;
  if start_audiobook_export.chapter_id is not null and not exists (
       select 1 from public.chapters c where c.id = start_audiobook_export.chapter_id and c.book_id = book.id) then
    raise exception 'chapter % not found in book %', start_audiobook_export.chapter_id, book.id using errcode = 'P0002';
  end if;
  if book.status <> 'ready' then
    raise exception 'book % is %; only a ready book can be exported', book.id, book.status using errcode = 'LT006';
  end if;

  select * into subscription from public.user_subscriptions s where s.user_id = caller for no key update;
  if not found or not (subscription.status in ('active', 'trialing')
                       or (subscription.status = 'canceled' and subscription.tier = 'free')) then
    raise exception 'your subscription is %: update your payment method to export audiobooks',
      coalesce(subscription.status::text, 'missing') using errcode = 'LT002';
  end if;
  select t.quality_tier into allowed_quality from public.subscription_tiers() t where t.tier = subscription.tier;
  quality := coalesce(start_audiobook_export.quality_tier, allowed_quality);
  if quality > allowed_quality then
    raise exception 'quality % is not included in the % tier (up to %)', quality, subscription.tier, allowed_quality
      using errcode = 'LT005';
  end if;
  voice := case when start_audiobook_export.quality_tier is null then private.user_model(caller, 'audio')
                else private.ladder_model(quality, 'audio') end;
  select * into ceilings from private.tier_ceilings c where c.quality_tier = quality;

  if exists (select 1 from public.audiobook_exports e
             where e.book_id = book.id and e.chapter_id is not distinct from start_audiobook_export.chapter_id
               and e.format = start_audiobook_export.format and e.status in ('pending', 'processing')) then
    raise exception 'an % export of this % is already being made', start_audiobook_export.format,
      case when start_audiobook_export.chapter_id is null then 'book' else 'chapter' end using errcode = 'LT003';
  end if;

  -- The cover: books.cover_url naming (or linking to) an object the owner uploaded to `covers`.
  cover := nullif(pg_catalog.regexp_replace(pg_catalog.split_part(coalesce(book.cover_url, ''), '?', 1),
    '^.*/storage/v1/object/(public/|authenticated/|sign/)?covers/', ''), '');
  if cover is not null and not (pg_catalog.split_part(cover, '/', 1) = caller::text and private.is_safe_object_name(cover)
       and exists (select 1 from storage.objects o where o.bucket_id = 'covers' and o.name = cover
                   and (o.owner_id = caller::text or o.owner = caller))) then
    cover := null;
  end if;

  insert into public.audiobook_exports (user_id, book_id, chapter_id, format, source, quality_tier, voice_model,
    total_chapters, cover_path)
  values (caller, book.id, start_audiobook_export.chapter_id, start_audiobook_export.format,
    start_audiobook_export.source, quality, voice, 1, cover)
  returning id into new_id;

  -- Each chapter's narration: its latest completed video's scene tracks, or its text to be spoken.
  insert into private.audiobook_export_chapters (export_id, position, chapter_id, chapter_number, title, source,
    generation_id, tracks, duration_ms, characters, text_hash, status, completed_at)
  select new_id, pg_catalog.row_number() over (order by c.chapter_number), c.id, c.chapter_number, c.title, p.source,
    case when p.source = 'generation' then v.generation_id end,
    case when p.source = 'generation' then v.tracks end,
    case when p.source = 'generation' then v.duration_ms end,
    case when p.source = 'narration' then pg_catalog.char_length(p.spoken) else 0 end,
    case when p.source = 'narration' then pg_catalog.md5(p.spoken) end,
    case when p.source = 'generation' then 'completed' else 'pending' end::public.processing_status,
    case when p.source = 'generation' then pg_catalog.clock_timestamp() end
  from public.chapters c
  left join lateral (
    select g.id as generation_id,
      pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('storage_path', u.result ->> 'storage_path',
        'duration_ms', (u.result ->> 'duration_ms')::integer) order by u.scene_number) as tracks,
      pg_catalog.sum((u.result ->> 'duration_ms')::integer)::integer as duration_ms
    from (select g.id from public.video_generations g
          where g.chapter_id = c.id and g.user_id = caller and g.status = 'completed'
          order by g.completed_at desc limit 1) g
    join private.pipeline_units u on u.generation_id = g.id and u.step = 'audio' and u.status = 'completed'
      and u.result ? 'storage_path'
    group by g.id
  ) v on true
  cross join lateral (
    select case when start_audiobook_export.source = 'narration'
                  or (start_audiobook_export.source = 'auto' and v.tracks is null) then 'narration'
                else 'generation' end as source,
      private.audiobook_narration_text(c.title, c.content) as spoken
  ) p
  where c.book_id = book.id and (start_audiobook_export.chapter_id is null or c.id = start_audiobook_export.chapter_id);

  select u.chapter_number, u.title, u.source into lacking from private.audiobook_export_chapters u
  join public.chapters c on c.id = u.chapter_id
  where u.export_id = new_id and ((u.source = 'generation' and u.tracks is null)
    or (u.source = 'narration' and pg_catalog.btrim(coalesce(c.content, '')) = ''))
  order by u.position limit 1;
  if found then
    raise exception '%', case when lacking.source = 'generation'
      then pg_catalog.format('chapter %s ("%s") has no completed video whose narration can be exported: make its video, or export with source narration or auto',
        lacking.chapter_number, lacking.title)
      else pg_catalog.format('chapter %s ("%s") has no text to narrate', lacking.chapter_number, lacking.title) end
      using errcode = 'LT014';
  end if;

  select pg_catalog.count(*)::integer, coalesce(pg_catalog.sum(u.characters), 0)::integer,
    coalesce(pg_catalog.sum(u.duration_ms), 0) / 1000.0
  into chapters_count, narrated, video_seconds
  from private.audiobook_export_chapters u where u.export_id = new_id;
  if chapters_count = 0 then
    raise exception 'book % has no chapters to export', book.id using errcode = 'LT014';
  end if;
  -- Speech lasts about a second for every 15 characters (as the video estimate counts it).
  seconds := video_seconds + narrated / 15.0;
  if narrated > ceilings.max_export_characters then
    raise exception 'this export would speak % characters; a %-quality export may speak at most %: export fewer chapters, use their videos'' narration, or choose a higher quality',
      narrated, quality, ceilings.max_export_characters using errcode = 'LT015';
  end if;
  if seconds > ceilings.max_export_seconds then
    raise exception 'this export would last about % s; a %-quality export may last at most % s: export fewer chapters or choose a higher quality',
      pg_catalog.round(seconds), quality, ceilings.max_export_seconds using errcode = 'LT015';
  end if;

  -- The period's budget: the speech at the quality's voice and the file's encoding, as reserved later.
  expected := coalesce(private.price_of(voice, pg_catalog.jsonb_build_object('characters', narrated,
      'seconds', pg_catalog.round(narrated / 15.0, 1))), 0)
    + coalesce(private.price_of(private.ladder_model(quality, 'merge'),
      pg_catalog.jsonb_build_object('seconds', pg_catalog.ceil(seconds))), 0);
  select * into budget from private.period_budget(caller);
  spent := private.user_spend_usd(caller, budget.period_start);
  if spent + expected > budget.budget_usd then
    raise exception 'this billing period''s model costs ($% so far, and about $% for this export) would pass the % tier''s budget of $%: more can be made from %',
      pg_catalog.round(spent, 2), pg_catalog.round(expected, 2), budget.tier, budget.budget_usd,
      pg_catalog.to_char(budget.period_end, 'YYYY-MM-DD') using errcode = 'LT010';
  end if;

  update public.audiobook_exports e
  set total_chapters = chapters_count, speech_characters = narrated,
      completed_chapters = (select pg_catalog.count(*) from private.audiobook_export_chapters u
                            where u.export_id = new_id and u.status = 'completed')
  where e.id = new_id;
  if narrated > 0 then
    perform pgmq.send('audiobook_export', pg_catalog.jsonb_build_object('export_id', new_id, 'position', u.position,
      'characters', u.characters))
    from private.audiobook_export_chapters u where u.export_id = new_id and u.source = 'narration'
    order by u.position;
    perform private.wake_queue_workers('audiobook_export');
  else
    perform private.queue_audiobook_assembly(new_id);
  end if;
  return new_id;
end;
$$;
comment on function public.start_audiobook_export(uuid, uuid, public.audiobook_format, public.audiobook_source,
  public.quality_tier) is 'Client RPC: export a chapter or a whole book of yours as an M4B or MP3 audiobook; returns the export id.';
revoke all on function public.start_audiobook_export(uuid, uuid, public.audiobook_format, public.audiobook_source,
  public.quality_tier) from public, anon;
grant execute on function public.start_audiobook_export(uuid, uuid, public.audiobook_format, public.audiobook_source,
  public.quality_tier) to authenticated, service_role;

-- Worker steps --------------------------------------------------------------------------------------
-- Messages: {export_id, position, characters} speaks a chapter; {export_id, assemble, seconds} makes
-- the file once every chapter's narration is ready.

-- What the worker needs to speak a chapter, or null when there is nothing to do (the export ended,
-- the chapter is spoken). A chapter deleted or changed since the export began cannot be spoken.
create or replace function private.begin_audiobook_chapter(p_export_id uuid, p_position integer)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  export public.audiobook_exports;
  unit private.audiobook_export_chapters;
  chapter public.chapters;
  spoken text;
begin
  select * into export from public.audiobook_exports e where e.id = p_export_id;
  if not found or export.status in ('completed', 'failed') then
    return null;
  end if;
  update private.audiobook_export_chapters u
  set status = 'processing', attempts = u.attempts + 1, started_at = coalesce(u.started_at, pg_catalog.clock_timestamp())
  where u.export_id = p_export_id and u.position = p_position and u.source = 'narration'
    and u.status in ('pending', 'processing')
  returning * into unit;
  if not found then
    return null;
  end if;
  if export.status = 'pending' then
    update public.audiobook_exports e set status = 'processing', started_at = pg_catalog.clock_timestamp()
    where e.id = p_export_id and e.status = 'pending';
  end if;
  select * into chapter from public.chapters c where c.id = unit.chapter_id;
  if not found then
    raise exception 'the chapter was deleted after the export began' using errcode = 'P0002';
  end if;
  spoken := private.audiobook_narration_text(chapter.title, chapter.content);
  if pg_catalog.md5(spoken) <> unit.text_hash then
    raise exception 'the chapter''s text changed after the export began: start a new export' using errcode = 'P0001';
  end if;
  return pg_catalog.jsonb_build_object('export_id', export.id, 'user_id', export.user_id, 'position', unit.position,
    'chapter_number', unit.chapter_number, 'title', unit.title, 'text', spoken, 'characters', unit.characters,
    'model', export.voice_model, 'attempt', unit.attempts, 'segments', unit.segments);
end;
$$;

-- A segment of a chapter spoken and stored: kept, so that a later attempt does not speak it again.
create or replace function private.save_audiobook_segment(
  p_export_id uuid, p_position integer, p_segment integer, p_storage_path text, p_duration_ms integer,
  p_characters integer)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.audiobook_export_chapters u
  set segments = u.segments || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('segment', p_segment,
        'storage_path', p_storage_path, 'duration_ms', p_duration_ms, 'characters', p_characters))
  where u.export_id = p_export_id and u.position = p_position and u.status = 'processing'
    and not u.segments @> pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('segment', p_segment));
  update public.audiobook_exports e
  set progress_percentage = greatest(e.progress_percentage, least(89,
        (90 * private.audiobook_spoken_characters(e.id) / greatest(e.speech_characters, 1))::integer)),
      cost_usd = private.audiobook_export_cost(e.id)
  where e.id = p_export_id and e.status = 'processing';
end;
$$;

-- A chapter spoken: the message deleted, and the file queued when it was the last chapter to speak.
-- Returns 'completed', 'chapters_completed' or 'stale'.
create or replace function private.complete_audiobook_chapter(
  p_msg_id bigint, p_export_id uuid, p_position integer, p_duration_ms integer)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  export public.audiobook_exports;
begin
  perform pgmq.delete('audiobook_export', p_msg_id);
  -- One completion at a time: exactly one of them sees the last chapter done.
  select * into export from public.audiobook_exports e where e.id = p_export_id for no key update;
  if not found or export.status in ('completed', 'failed') then
    return 'stale';
  end if;
  update private.audiobook_export_chapters u
  set status = 'completed', duration_ms = p_duration_ms, completed_at = pg_catalog.clock_timestamp(), last_error = null
  where u.export_id = p_export_id and u.position = p_position and u.status = 'processing';
  if not found then
    return 'stale';
  end if;
  update public.audiobook_exports e
  set completed_chapters = least(e.completed_chapters + 1, e.total_chapters),
      progress_percentage = greatest(e.progress_percentage, least(89,
        (90 * private.audiobook_spoken_characters(e.id) / greatest(e.speech_characters, 1))::integer)),
      cost_usd = private.audiobook_export_cost(e.id)
  where e.id = p_export_id;
  if exists (select 1 from private.audiobook_export_chapters u where u.export_id = p_export_id and u.status <> 'completed') then
    return 'completed';
  end if;
  perform private.queue_audiobook_assembly(p_export_id);
  return 'chapters_completed';
end;
$$;

-- What the worker needs to make the file: each chapter's files in order, the book, the cover; or null
-- when there is nothing to do.
create or replace function private.begin_audiobook_assembly(p_export_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  export public.audiobook_exports;
  book public.books;
begin
  select * into export from public.audiobook_exports e where e.id = p_export_id for no key update;
  if not found or export.status in ('completed', 'failed')
     or exists (select 1 from private.audiobook_export_chapters u where u.export_id = p_export_id and u.status <> 'completed') then
    return null;
  end if;
  update public.audiobook_exports e
  set status = 'processing', started_at = coalesce(e.started_at, pg_catalog.clock_timestamp()), attempts = e.attempts + 1,
      progress_percentage = greatest(e.progress_percentage, 90)
  where e.id = p_export_id
  returning * into export;
  select * into book from public.books b where b.id = export.book_id;
  return pg_catalog.jsonb_build_object('export_id', export.id, 'user_id', export.user_id, 'format', export.format,
    'attempt', export.attempts, 'model', private.ladder_model(export.quality_tier, 'merge'),
    'book_title', book.title, 'author', book.author, 'whole_book', export.chapter_id is null,
    'cover_path', export.cover_path,
    'max_seconds', (select c.max_export_seconds from private.tier_ceilings c where c.quality_tier = export.quality_tier),
    'chapters', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('position', u.position,
        'chapter_id', u.chapter_id, 'chapter_number', u.chapter_number, 'title', u.title, 'source', u.source,
        'generation_id', u.generation_id, 'duration_ms', u.duration_ms,
        'files', case when u.source = 'generation' then u.tracks
                      else (select pg_catalog.jsonb_agg(s order by (s ->> 'segment')::integer)
                            from pg_catalog.jsonb_array_elements(u.segments) s) end) order by u.position)
      from private.audiobook_export_chapters u where u.export_id = export.id));
end;
$$;

-- Progress while the file is made (never backwards, never 100 before it is done).
create or replace function private.set_audiobook_progress(p_export_id uuid, p_percentage integer)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.audiobook_exports e set progress_percentage = greatest(e.progress_percentage, least(p_percentage, 99))
  where e.id = p_export_id and e.status = 'processing';
$$;

-- The file made: the export completed with it, its chapter markers and its cost, and the message
-- deleted, in one transaction. Returns false when the export had already ended.
create or replace function private.complete_audiobook_export(
  p_msg_id bigint, p_export_id uuid, p_storage_path text, p_url text, p_duration_ms integer, p_size_bytes bigint,
  p_chapters jsonb, p_with_cover boolean)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pgmq.delete('audiobook_export', p_msg_id);
  update public.audiobook_exports e
  set status = 'completed', progress_percentage = 100, storage_path = p_storage_path, file_url = p_url,
      duration_ms = p_duration_ms, size_bytes = p_size_bytes, chapters = coalesce(p_chapters, '[]'),
      cover_path = case when p_with_cover then e.cover_path end, completed_at = pg_catalog.clock_timestamp(),
      cost_usd = private.audiobook_export_cost(e.id)
  where e.id = p_export_id and e.status = 'processing';
  return found;
end;
$$;

-- A failed attempt at a chapter (p_position) or at the file (null). Not final: noted on the chapter,
-- the message comes back after its backoff. Final: the message archived, the export failed with the
-- message, and its other messages dropped.
create or replace function private.fail_audiobook_step(
  p_msg_id bigint, p_export_id uuid, p_position integer, p_error text, p_final boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  unit private.audiobook_export_chapters;
begin
  if p_position is not null then
    update private.audiobook_export_chapters u
    set last_error = p_error,
        status = case when p_final then 'failed'::public.processing_status else u.status end,
        completed_at = case when p_final then pg_catalog.clock_timestamp() else u.completed_at end
    where u.export_id = p_export_id and u.position = p_position and u.status <> 'completed'
    returning * into unit;
  end if;
  if not p_final then
    return;
  end if;
  perform pgmq.archive('audiobook_export', p_msg_id);
  update public.audiobook_exports e
  set status = 'failed', completed_at = pg_catalog.clock_timestamp(), cost_usd = private.audiobook_export_cost(e.id),
      error_message = case when p_position is null then 'making the audiobook file: ' || p_error
        else pg_catalog.format('chapter %s ("%s"): %s', coalesce(unit.chapter_number::text, '?'), coalesce(unit.title, '?'), p_error) end
  where e.id = p_export_id and e.status in ('pending', 'processing');
  -- A message a worker holds is skipped: that worker finds the export failed and drops it itself.
  perform private.drop_queue_messages('audiobook_export', 'export_id', array[p_export_id::text]);
end;
$$;

revoke all on function private.audiobook_narration_text(text, text), private.audiobook_export_cost(uuid),
  private.audiobook_spoken_characters(uuid), private.queue_audiobook_assembly(uuid),
  private.begin_audiobook_chapter(uuid, integer),
  private.save_audiobook_segment(uuid, integer, integer, text, integer, integer),
  private.complete_audiobook_chapter(bigint, uuid, integer, integer), private.begin_audiobook_assembly(uuid),
  private.set_audiobook_progress(uuid, integer),
  private.complete_audiobook_export(bigint, uuid, text, text, integer, bigint, jsonb, boolean),
  private.fail_audiobook_step(bigint, uuid, integer, text, boolean)
  from public, anon, authenticated;
grant execute on function private.begin_audiobook_chapter(uuid, integer),
  private.save_audiobook_segment(uuid, integer, integer, text, integer, integer),
  private.complete_audiobook_chapter(bigint, uuid, integer, integer), private.begin_audiobook_assembly(uuid),
  private.set_audiobook_progress(uuid, integer),
  private.complete_audiobook_export(bigint, uuid, text, text, integer, bigint, jsonb, boolean),
  private.fail_audiobook_step(bigint, uuid, integer, text, boolean)
  to service_role;
