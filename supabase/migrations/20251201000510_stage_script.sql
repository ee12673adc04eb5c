-- Stage 1, script: the chapter becomes a script and its scenes (one unit: the chapter).
insert into private.pipeline_stages (step, position, weight, job_table, timeout_seconds, lease_seconds, concurrency)
values ('script', 1, 10, null, 300, 15, 2);
select pgmq.create('script') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'script');

create or replace function private.stage_script_units(generation public.video_generations)
returns setof text
language sql
immutable
set search_path = ''
as $$ select 'chapter'::text $$;

-- The chapter, its book (the whole text, for names), and the book's active plot and characters. A
-- script is written from the first 200,000 characters of each (about 35,000 words; hosted models
-- read 48,000), which keeps the unit within an Edge Function's 256 MB whatever the chapter's length.
create or replace function private.stage_script_begin(
  generation public.video_generations, unit private.pipeline_units, attempt integer)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'chapter', pg_catalog.jsonb_build_object('id', c.id, 'number', c.chapter_number, 'title', c.title,
                                          'content', pg_catalog.left(c.content, 200000)),
    'book', pg_catalog.jsonb_build_object('id', b.id, 'title', b.title, 'book_type', b.book_type),
    'book_text', pg_catalog.left((select pg_catalog.string_agg(x.content, E'\n\n' order by x.chapter_number)
                                  from public.chapters x where x.book_id = b.id), 200000),
    'plot', (select pg_catalog.to_jsonb(p) - 'metadata' from public.plot_overviews p
             where p.book_id = b.id and p.status = 'active'),
    'characters', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', ch.id, 'name', ch.name,
               'role', ch.role, 'want', ch.want, 'need', ch.need, 'arc', ch.character_arc) order by ch.name)
             from public.characters ch join public.plot_overviews p on p.id = ch.plot_overview_id
             where p.book_id = b.id and p.status = 'active'), '[]'))
  from public.chapters c join public.books b on b.id = c.book_id where c.id = generation.chapter_id
$$;

-- The most a script call may use: the chapter text a hosted model reads (48,000 characters) and the
-- book's cast and plot as tokens in, and the answer's token limit (hosted_script.ts) out.
create or replace function private.script_call_bound(p_chapter_characters integer)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('input_tokens', (least(p_chapter_characters, 48000) + 8000) / 4,
    'output_tokens', 16000)
$$;

-- A script call reads the chapter (up to what a hosted model reads) and answers within its token limit.
create or replace function private.stage_script_quantity(context jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$ select private.script_call_bound(pg_catalog.length(context -> 'chapter' ->> 'content')) $$;

-- The ceilings of its quality a script passes, as a sentence for the user; null within them all:
-- its scenes, characters of speech and seconds (the script's own estimate or its speech at 15
-- characters a second, whichever is more), and what making it would cost at the quality's models.
create or replace function private.script_ceiling_breach(p_quality public.quality_tier, p_scenes jsonb)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- (plpgsql: the price table and the ladder are created after this migration.)
  return (
  with spoken as (
    select n, s, pg_catalog.length(coalesce(s ->> 'narration', ''))
        + (select coalesce(pg_catalog.sum(pg_catalog.length(coalesce(d ->> 'line', ''))), 0)
           from pg_catalog.jsonb_array_elements(coalesce(s -> 'dialogue', '[]')) d) as characters
    from pg_catalog.jsonb_array_elements(coalesce(p_scenes, '[]')) with ordinality e (s, n)
  ), per_scene as (
    -- A scene with nothing to say has the first 300 characters of its description read (the audio stage).
    select n, case when characters = 0 then least(pg_catalog.length(coalesce(s ->> 'visual_description', '')), 300)
                   else characters end as characters,
      coalesce((s ->> 'estimated_duration_seconds')::numeric, 0) as estimated_seconds
    from spoken
  ), used as (
    select pg_catalog.count(*)::integer as scenes, coalesce(pg_catalog.sum(p.characters), 0)::integer as characters,
      coalesce(pg_catalog.sum(p.estimated_seconds), 0) as estimated_seconds,
      (select pg_catalog.jsonb_build_object('scene', x.n, 'characters', x.characters) from per_scene x
       order by x.characters desc, x.n limit 1) as longest
    from per_scene p
  ), sized as (
    select u.scenes, u.characters, u.longest, pg_catalog.round(greatest(u.estimated_seconds, u.characters / 15.0)) as seconds,
      private.generation_cost_usd(p_quality, u.scenes, u.characters, greatest(u.estimated_seconds, u.characters / 15.0))
        as cost
    from used u
  )
  select case
    when u.scenes > c.max_scenes or u.characters > c.max_speech_characters or u.seconds > c.max_video_seconds then
      pg_catalog.format(
        'this chapter''s script needs %s scenes, %s characters of speech and %s seconds of video; a %s-quality video '
        'may have at most %s scenes, %s characters and %s seconds: choose a shorter chapter or a higher quality',
        u.scenes, u.characters, u.seconds, p_quality, c.max_scenes, c.max_speech_characters, c.max_video_seconds)
    -- (A scene's speech is spoken into one track, which no stage accepts past 600 s: 7,200 characters
    -- at 12 a second, as script_rules.ts's sceneSpeechChars.)
    when (u.longest ->> 'characters')::integer > 7200 then
      pg_catalog.format(
        'scene %s of this chapter''s script has %s characters of speech; a scene may have at most 7200 (600 seconds '
        'spoken): choose a shorter chapter', u.longest ->> 'scene', u.longest ->> 'characters')
    when u.cost > c.max_generation_usd then
      pg_catalog.format(
        'this chapter''s script (%s scenes, %s characters of speech, %s seconds) would cost about $%s to make at %s '
        'quality, over the $%s a %s-quality video may cost: choose a shorter chapter or a higher quality',
        u.scenes, u.characters, u.seconds, pg_catalog.round(u.cost, 2), p_quality, c.max_generation_usd, p_quality)
    end
  from sized u join private.tier_ceilings c on c.quality_tier = p_quality);
end;
$$;
revoke all on function private.script_ceiling_breach(public.quality_tier, jsonb) from public, anon, authenticated;

-- The script and its scenes; the generation now has its script and scene count. The script row has
-- no cost column of its own: its usage counts in the generation's total.
create or replace function private.stage_script_record(
  generation public.video_generations, unit private.pipeline_units, outputs jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_script_id uuid := private.save_generated_script(generation.user_id, generation.chapter_id,
    generation.script_style, outputs, pg_catalog.jsonb_build_object('video_generation_id', generation.id));
  breach text := private.script_ceiling_breach(generation.quality_tier, outputs -> 'scenes');
begin
  -- Past its quality's ceilings the generation fails here, before any media is paid for (the script
  -- is kept, and its call logged by complete_step, which then finds the generation failed).
  update public.video_generations g
  set script_id = new_script_id, total_scenes = pg_catalog.jsonb_array_length(outputs -> 'scenes'),
      status = case when breach is null then g.status else 'failed' end,
      completed_at = case when breach is null then g.completed_at else pg_catalog.clock_timestamp() end,
      error_message = coalesce(breach, g.error_message)
  where g.id = generation.id;
  return new_script_id;
end;
$$;

create or replace function private.stage_script_fail(
  generation public.video_generations, unit private.pipeline_units, error text, retryable boolean, final boolean)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- Nothing beyond the unit and the generation records a script's failure.
end;
$$;

revoke all on function private.stage_script_units(public.video_generations),
  private.stage_script_begin(public.video_generations, private.pipeline_units, integer),
  private.stage_script_record(public.video_generations, private.pipeline_units, jsonb),
  private.stage_script_fail(public.video_generations, private.pipeline_units, text, boolean, boolean),
  private.stage_script_quantity(jsonb), private.script_call_bound(integer)
  from public, anon, authenticated;
