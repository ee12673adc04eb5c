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
begin
  update public.video_generations g
  set script_id = new_script_id, total_scenes = pg_catalog.jsonb_array_length(outputs -> 'scenes')
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
  private.stage_script_fail(public.video_generations, private.pipeline_units, text, boolean, boolean)
  from public, anon, authenticated;
