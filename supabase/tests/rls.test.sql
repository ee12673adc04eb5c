-- Row level security for every table in public, from the outside: anon, another user (B),
-- the owner (A) and the service role, for select, insert, update and delete.
begin;

-- Users: A owns everything below, B is another user, S is a superadmin.
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'owner@rls.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'other@rls.test'),
  ('c0000000-0000-4000-8000-00000000000c', 'admin@rls.test');
insert into public.user_roles (user_id, role_name) values ('c0000000-0000-4000-8000-00000000000c', 'superadmin');

-- A's content, one row per table, with fixed ids.
insert into public.books (id, user_id, title) values
  ('a0000000-0000-4000-8000-0000000000b1', 'a0000000-0000-4000-8000-00000000000a', 'Owner book'),
  -- The book of the owner's video in production (a chapter of it cannot be deleted until it ends).
  ('a0000000-0000-4000-8000-0000000000b9', 'a0000000-0000-4000-8000-00000000000a', 'Owner book in production'),
  ('b0000000-0000-4000-8000-0000000000b1', 'b0000000-0000-4000-8000-00000000000b', 'Other book');
insert into public.book_structure (id, book_id, extraction_method) values
  ('a0000000-0000-4000-8000-000000000051', 'a0000000-0000-4000-8000-0000000000b1', 'toc');
insert into public.chapters (id, book_id, chapter_number, title, content) values
  ('a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-0000000000b1', 1, 'One', 'Text.'),
  ('a0000000-0000-4000-8000-0000000000c2', 'a0000000-0000-4000-8000-0000000000b1', 2, 'Two', 'More text.'),
  ('a0000000-0000-4000-8000-0000000000c9', 'a0000000-0000-4000-8000-0000000000b9', 1, 'Filming', 'Text.'),
  ('b0000000-0000-4000-8000-0000000000c1', 'b0000000-0000-4000-8000-0000000000b1', 1, 'Other', 'Text.');
insert into public.chapter_embeddings (id, chapter_id, content_hash, embedding, embedding_model) values
  ('a0000000-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-0000000000c1', 'h',
   array_fill(0.1::real, array[1536])::extensions.vector, 'hashed-bow');
insert into public.chapter_passages (id, chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model) values
  ('a0000000-0000-4000-8000-0000000000e2', 'a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-00000000000a', 0, 'Text.', 'h',
   array_fill(0.1::real, array[1536])::extensions.vector, 'hashed-bow');
insert into public.scripts (id, chapter_id, user_id, script_style, title, script) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-00000000000a', 'cinematic', 'S1', 'INT.'),
  ('a0000000-0000-4000-8000-0000000000d2', 'a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-00000000000a', 'narration', 'S2', 'Once.');
insert into public.scene_descriptions (id, script_id, scene_number, visual_description) values
  ('a0000000-0000-4000-8000-0000000000f1', 'a0000000-0000-4000-8000-0000000000d1', 1, 'A lighthouse.');
insert into public.plot_overviews (id, book_id, user_id, logline) values
  ('a0000000-0000-4000-8000-000000000071', 'a0000000-0000-4000-8000-0000000000b1', 'a0000000-0000-4000-8000-00000000000a', 'A keeper.');
insert into public.characters (id, plot_overview_id, book_id, user_id, name, archetypes) values
  ('a0000000-0000-4000-8000-000000000072', 'a0000000-0000-4000-8000-000000000071', 'a0000000-0000-4000-8000-0000000000b1',
   'a0000000-0000-4000-8000-00000000000a', 'Mara', jsonb_build_array((select id from public.character_archetypes where name = 'Hero')));
insert into public.chapter_scripts (id, chapter_id, script_id, plot_overview_id, user_id) values
  ('a0000000-0000-4000-8000-000000000073', 'a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-0000000000d1',
   'a0000000-0000-4000-8000-000000000071', 'a0000000-0000-4000-8000-00000000000a');
insert into public.video_generations (id, user_id, chapter_id, script_style) values
  ('a0000000-0000-4000-8000-000000000091', 'a0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-0000000000c9',
   'cinematic');
insert into public.image_generations (id, chapter_id, user_id, video_generation_id, scene_description_id, image_type, scene_number, prompt) values
  ('a0000000-0000-4000-8000-000000000092', 'a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-00000000000a',
   'a0000000-0000-4000-8000-000000000091', 'a0000000-0000-4000-8000-0000000000f1', 'scene', 1, 'A lighthouse');
insert into public.image_generation_retries (id, image_generation_id, attempt_number, error_message) values
  ('a0000000-0000-4000-8000-000000000093', 'a0000000-0000-4000-8000-000000000092', 1, 'timeout');
insert into public.audio_generations (id, chapter_id, user_id, video_generation_id, scene_description_id, audio_type, text_content) values
  ('a0000000-0000-4000-8000-000000000094', 'a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-00000000000a',
   'a0000000-0000-4000-8000-000000000091', 'a0000000-0000-4000-8000-0000000000f1', 'narration', 'Once.');
insert into public.scene_videos (id, video_generation_id, scene_description_id, user_id, scene_number) values
  ('a0000000-0000-4000-8000-000000000095', 'a0000000-0000-4000-8000-000000000091', 'a0000000-0000-4000-8000-0000000000f1',
   'a0000000-0000-4000-8000-00000000000a', 1);
insert into public.lipsync_jobs (id, scene_video_id, video_generation_id, user_id) values
  ('a0000000-0000-4000-8000-000000000096', 'a0000000-0000-4000-8000-000000000095', 'a0000000-0000-4000-8000-000000000091',
   'a0000000-0000-4000-8000-00000000000a');
insert into public.merge_jobs (id, video_generation_id, user_id) values
  ('a0000000-0000-4000-8000-000000000097', 'a0000000-0000-4000-8000-000000000091', 'a0000000-0000-4000-8000-00000000000a');
insert into public.merge_assets (id, merge_job_id, scene_video_id, asset_type, asset_url, sequence_order) values
  ('a0000000-0000-4000-8000-000000000098', 'a0000000-0000-4000-8000-000000000097', 'a0000000-0000-4000-8000-000000000095',
   'video', 'a/1.mp4', 0);
insert into public.subscription_history (id, user_id, subscription_id, to_tier, new_status, change_reason)
  select 'a0000000-0000-4000-8000-0000000000a1', user_id, id, 'standard', 'active', 'upgrade'
  from public.user_subscriptions where user_id = 'a0000000-0000-4000-8000-00000000000a';
insert into public.usage_logs (id, user_id, resource_type, provider, model_used, operation, cost_usd, tier_at_time) values
  ('a0000000-0000-4000-8000-0000000000a2', 'a0000000-0000-4000-8000-00000000000a', 'script', 'offline', 'rules', 'script', 0.01, 'free');
insert into public.cost_aggregations (id, user_id, period_start, period_end, total_cost) values
  ('a0000000-0000-4000-8000-0000000000a3', 'a0000000-0000-4000-8000-00000000000a', current_date, current_date, 0.01);
insert into public.model_metrics (id, model_name, provider, date, request_count, success_count) values
  ('a0000000-0000-4000-8000-0000000000a4', 'rules', 'offline', current_date, 1, 1);
insert into public.user_badges (id, user_id, badge_id) values
  ('a0000000-0000-4000-8000-0000000000a5', 'a0000000-0000-4000-8000-00000000000a', (select id from public.badges where name = 'First Book'));
insert into public.quiz_attempts (id, user_id, chapter_id, answers, correct, total, score, passed) values
  ('a0000000-0000-4000-8000-0000000000a7', 'a0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-0000000000c1',
   '[0]', 1, 1, 100, true);
insert into public.nfts (id, user_id, badge_id, blockchain) values
  ('a0000000-0000-4000-8000-0000000000a6', 'a0000000-0000-4000-8000-00000000000a', (select id from public.badges where name = 'First Book'), 'polygon');
insert into public.audiobook_exports (id, user_id, book_id, chapter_id, format, source, quality_tier, voice_model, total_chapters) values
  ('a0000000-0000-4000-8000-0000000000a8', 'a0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-0000000000b1',
   'a0000000-0000-4000-8000-0000000000c1', 'm4b', 'auto', 'free', 'espeak-ng', 1);
select private.issue_email_verification('a0000000-0000-4000-8000-00000000000a');
-- Operator alerts concern no owner: A (a user) reads none of them; superadmins do (alerts.test.sql).
insert into public.operator_alerts (id, kind, subject, user_id, message, threshold) values
  ('a0000000-0000-4000-8000-0000000000a8', 'user_daily_cost', 'a0000000-0000-4000-8000-00000000000a',
   'a0000000-0000-4000-8000-00000000000a', 'spent', 50);
-- An account deletion's audit row (it names no one: only superadmins read it).
insert into public.account_deletions (id, requested_by, reason) values
  ('a0000000-0000-4000-8000-0000000000a9', 'user', 'user_request');

-- What the product lets each party do, per table. row_id is A's row (or the reference row).
create temp table spec (
  tbl text primary key,
  row_id uuid not null,
  update_set text not null,
  insert_sql text not null,          -- %1$s is the acting user's id
  anon_reads boolean not null default false,
  owner_reads boolean not null default true,
  owner_inserts boolean not null default false,
  owner_updates boolean not null default false,
  owner_deletes boolean not null default false,
  service_deletes boolean not null default true
);
grant select on spec to anon, authenticated, service_role;

insert into spec (tbl, row_id, update_set, insert_sql, anon_reads, owner_reads, owner_inserts, owner_updates, owner_deletes, service_deletes)
select s.tbl, s.row_id, s.update_set,
  coalesce(s.insert_sql, format('insert into public.%I (id) values (pg_catalog.gen_random_uuid())', s.tbl)),
  s.anon_reads, s.owner_reads, s.owner_inserts, s.owner_updates, s.owner_deletes, s.service_deletes
from (values
  ('profiles', 'a0000000-0000-4000-8000-00000000000a'::uuid, 'display_name = ''x''', null::text, false, true, false, true, false, true),
  ('user_roles', (select id from public.user_roles where user_id = 'a0000000-0000-4000-8000-00000000000a'), 'updated_at = pg_catalog.now()',
    'insert into public.user_roles (user_id, role_name) values (''%1$s'', ''superadmin'')', false, true, false, false, false, true),
  ('email_verifications', (select id from public.email_verifications where user_id = 'a0000000-0000-4000-8000-00000000000a'),
    'verified_at = pg_catalog.now()', null, false, true, false, false, false, true),
  ('books', 'a0000000-0000-4000-8000-0000000000b1', 'title = ''x''',
    'insert into public.books (user_id, title) values (''%1$s'', ''New'')', false, true, true, true, true, true),
  ('book_structure', 'a0000000-0000-4000-8000-000000000051', 'confirmed_at = pg_catalog.now()',
    'insert into public.book_structure (book_id, extraction_method) values (''a0000000-0000-4000-8000-0000000000b1'', ''manual'')',
    false, true, false, false, false, true),
  ('chapters', 'a0000000-0000-4000-8000-0000000000c1', 'title = ''x''',
    'insert into public.chapters (book_id, chapter_number, title) values (''a0000000-0000-4000-8000-0000000000b1'', 99, ''New'')',
    false, true, true, true, true, true),
  ('chapter_embeddings', 'a0000000-0000-4000-8000-0000000000e1', 'embedding_model = ''x''',
    'insert into public.chapter_embeddings (chapter_id, content_hash, embedding, embedding_model) values (''a0000000-0000-4000-8000-0000000000c2'', ''h'', pg_catalog.array_fill(0.2::real, array[1536])::extensions.vector, ''m'')',
    false, true, true, true, true, true),
  ('chapter_passages', 'a0000000-0000-4000-8000-0000000000e2', 'content = ''x''',
    'insert into public.chapter_passages (chapter_id, passage_index, content, content_hash, embedding, embedding_model) values (''a0000000-0000-4000-8000-0000000000c1'', 7, ''x'', ''h'', pg_catalog.array_fill(0.2::real, array[1536])::extensions.vector, ''m'')',
    false, true, false, false, false, true),
  ('scripts', 'a0000000-0000-4000-8000-0000000000d2', 'title = ''x''',
    'insert into public.scripts (chapter_id, user_id, script_style, title, script) values (''a0000000-0000-4000-8000-0000000000c1'', ''%1$s'', ''educational'', ''T'', ''S'')',
    false, true, true, true, true, true),
  ('scene_descriptions', 'a0000000-0000-4000-8000-0000000000f1', 'location = ''x''',
    'insert into public.scene_descriptions (script_id, scene_number, visual_description) values (''a0000000-0000-4000-8000-0000000000d1'', 59, ''v'')',
    false, true, true, true, true, true),
  ('plot_overviews', 'a0000000-0000-4000-8000-000000000071', 'logline = ''x''',
    'insert into public.plot_overviews (book_id, user_id, status, logline) values (''a0000000-0000-4000-8000-0000000000b1'', ''%1$s'', ''archived'', ''L'')',
    false, true, true, true, true, true),
  ('characters', 'a0000000-0000-4000-8000-000000000072', 'personality = ''x''',
    'insert into public.characters (plot_overview_id, book_id, user_id, name) values (''a0000000-0000-4000-8000-000000000071'', ''a0000000-0000-4000-8000-0000000000b1'', ''%1$s'', ''Elias'')',
    false, true, true, true, true, true),
  ('character_archetypes', (select id from public.character_archetypes where name = 'Hero'), 'description = ''x''',
    'insert into public.character_archetypes (name, category, tradition, description) values (''Newcomer'', ''hero'', ''jung'', ''d'')',
    true, true, false, false, false, false),
  ('chapter_scripts', 'a0000000-0000-4000-8000-000000000073', 'plot_enhanced = true',
    'insert into public.chapter_scripts (chapter_id, script_id, user_id) values (''a0000000-0000-4000-8000-0000000000c1'', ''a0000000-0000-4000-8000-0000000000d2'', ''%1$s'')',
    false, true, true, true, true, true),
  ('video_generations', 'a0000000-0000-4000-8000-000000000091', 'progress_percentage = 50', null, false, true, false, false, false, true),
  ('image_generations', 'a0000000-0000-4000-8000-000000000092', 'cost_usd = 1', null, false, true, false, false, false, true),
  ('image_generation_retries', 'a0000000-0000-4000-8000-000000000093', 'error_message = ''x''', null, false, true, false, false, false, true),
  ('audio_generations', 'a0000000-0000-4000-8000-000000000094', 'cost_usd = 1', null, false, true, false, false, false, true),
  ('scene_videos', 'a0000000-0000-4000-8000-000000000095', 'cost_usd = 1', null, false, true, false, false, false, true),
  ('lipsync_jobs', 'a0000000-0000-4000-8000-000000000096', 'cost_usd = 1', null, false, true, false, false, false, true),
  ('merge_jobs', 'a0000000-0000-4000-8000-000000000097', 'cost_usd = 1', null, false, true, false, false, false, true),
  ('merge_assets', 'a0000000-0000-4000-8000-000000000098', 'asset_url = ''x''', null, false, true, false, false, false, true),
  ('user_subscriptions', (select id from public.user_subscriptions where user_id = 'a0000000-0000-4000-8000-00000000000a'),
    'video_count_limit = 1000', null, false, true, false, false, false, true),
  ('subscription_history', 'a0000000-0000-4000-8000-0000000000a1', 'to_tier = ''enterprise''', null, false, true, false, false, false, true),
  ('usage_logs', 'a0000000-0000-4000-8000-0000000000a2', 'cost_usd = 0', null, false, true, false, false, false, true),
  ('cost_aggregations', 'a0000000-0000-4000-8000-0000000000a3', 'total_cost = 0', null, false, true, false, false, false, true),
  ('model_metrics', 'a0000000-0000-4000-8000-0000000000a4', 'total_cost_usd = 0', null, false, false, false, false, false, true),
  ('badges', (select id from public.badges where name = 'First Book'), 'description = ''x''',
    'insert into public.badges (name, description, category, criteria) values (''New'', ''d'', ''achievement'', ''{"metric": "x", "threshold": 1}'')',
    true, true, false, false, false, false),
  ('user_badges', 'a0000000-0000-4000-8000-0000000000a5', 'earning_context = ''{"x": 1}''', null, false, true, false, false, false, true),
  ('nfts', 'a0000000-0000-4000-8000-0000000000a6', 'wallet_address = ''0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1''', null, false, true, false, false, false, true),
  ('user_progress', (select id from public.user_progress where user_id = 'a0000000-0000-4000-8000-00000000000a'),
    'total_xp = 1000', null, false, true, false, false, false, true),
  ('operator_alerts', 'a0000000-0000-4000-8000-0000000000a8', 'acknowledged_at = pg_catalog.now()', null,
    false, false, false, false, false, true),
  ('operator_alert_settings', (select id from public.operator_alert_settings where kind = 'queue_backlog'),
    'threshold = 600', null, false, false, false, false, false, true),
  ('account_deletions', 'a0000000-0000-4000-8000-0000000000a9', 'books = 1', null, false, false, false, false, false, true),
  ('audiobook_exports', 'a0000000-0000-4000-8000-0000000000a8', 'progress_percentage = 50', null, false, true, false, false, false, true),
  ('quiz_attempts', 'a0000000-0000-4000-8000-0000000000a7', 'score = 100',
    'insert into public.quiz_attempts (user_id, chapter_id, answers, correct, total, score, passed) values (''%1$s'', ''a0000000-0000-4000-8000-0000000000c1'', ''[0]'', 1, 1, 100, true)',
    false, true, false, false, false, true)
) as s (tbl, row_id, update_set, insert_sql, anon_reads, owner_reads, owner_inserts, owner_updates, owner_deletes, service_deletes);

create function pg_temp.attempt(t spec, command text, actor uuid)
returns text
language sql
as $$
  select tests.try_rows(case command
    when 'select' then format('select 1 from public.%I where id = %L', t.tbl, t.row_id)
    when 'update' then format('update public.%I set %s where id = %L', t.tbl, t.update_set, t.row_id)
    when 'delete' then format('delete from public.%I where id = %L', t.tbl, t.row_id)
    when 'insert' then format(t.insert_sql, actor)
  end)
$$;
grant execute on function pg_temp.attempt(spec, text, uuid) to anon, authenticated, service_role;

select plan(
  (select count(*)::integer * 15 from spec)  -- 4 anon, 4 other user, 4 owner, 3 service role
  + 1                                           -- every public table has a spec row
  + 31                                          -- the extra cases below
);

select is(
  (select array_agg(c.relname::text order by c.relname) from pg_class c
   where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and c.relname not in (select tbl from spec)),
  null, 'every table in public is covered by this test');

-- anon: reads only public reference data, writes nothing.
select tests.authenticate_as_anon();
select ok(case when s.anon_reads then pg_temp.attempt(s, 'select', null) = '1'
               else pg_temp.attempt(s, 'select', null) in ('0', 'denied') end,
  format('anon %s %s', case when s.anon_reads then 'reads' else 'cannot read' end, s.tbl)) from spec s order by s.tbl;
select is(pg_temp.attempt(s, 'insert', 'a0000000-0000-4000-8000-00000000000a'), 'denied',
  format('anon cannot insert into %s, even claiming to be the owner', s.tbl)) from spec s order by s.tbl;
select ok(pg_temp.attempt(s, 'update', null) in ('0', 'denied'), format('anon cannot update %s', s.tbl)) from spec s order by s.tbl;
select ok(pg_temp.attempt(s, 'delete', null) in ('0', 'denied'), format('anon cannot delete from %s', s.tbl)) from spec s order by s.tbl;

-- Another user: sees only what anyone sees, changes nothing of A's, cannot attach rows to A's parents.
select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');
select ok(pg_temp.attempt(s, 'select', 'b0000000-0000-4000-8000-00000000000b') in
    (case when s.anon_reads then '1' else '0' end, case when s.anon_reads then '1' else 'denied' end),
  format('another user %s %s', case when s.anon_reads then 'reads reference data in' else 'cannot read the owner''s row in' end, s.tbl))
from spec s order by s.tbl;
select is(pg_temp.attempt(s, 'insert', 'a0000000-0000-4000-8000-00000000000a'), 'denied',
  format('another user cannot insert into %s as the owner or under the owner''s rows', s.tbl)) from spec s order by s.tbl;
select is(tests.try_rows($$insert into public.scripts (chapter_id, user_id, script_style, title, script)
    values ('a0000000-0000-4000-8000-0000000000c1', 'b0000000-0000-4000-8000-00000000000b', 'narration', 'T', 'S')$$),
  'denied', 'another user cannot attach their own script to the owner''s chapter');
select is(tests.try_rows($$insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
    values ('a0000000-0000-4000-8000-0000000000c1', 'b0000000-0000-4000-8000-00000000000b', 8, 'x', 'h',
            pg_catalog.array_fill(0.3::real, array[1536])::extensions.vector, 'm')$$),
  'denied', 'another user cannot add a passage to the owner''s chapter, even naming themselves as its owner');
select ok(pg_temp.attempt(s, 'update', 'b0000000-0000-4000-8000-00000000000b') in ('0', 'denied'),
  format('another user cannot update the owner''s row in %s', s.tbl)) from spec s order by s.tbl;
select ok(pg_temp.attempt(s, 'delete', 'b0000000-0000-4000-8000-00000000000b') in ('0', 'denied'),
  format('another user cannot delete the owner''s row in %s', s.tbl)) from spec s order by s.tbl;

-- The owner: exactly what the product allows.
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');
select ok(pg_temp.attempt(s, 'select', 'a0000000-0000-4000-8000-00000000000a') = case when s.owner_reads then '1' else '0' end,
  format('owner %s their row in %s', case when s.owner_reads then 'reads' else 'cannot read' end, s.tbl)) from spec s order by s.tbl;
select ok(case when s.owner_inserts then pg_temp.attempt(s, 'insert', 'a0000000-0000-4000-8000-00000000000a') = '1'
               else pg_temp.attempt(s, 'insert', 'a0000000-0000-4000-8000-00000000000a') = 'denied' end,
  format('owner %s into %s', case when s.owner_inserts then 'inserts' else 'cannot insert' end, s.tbl)) from spec s order by s.tbl;
select ok(case when s.owner_updates then pg_temp.attempt(s, 'update', 'a0000000-0000-4000-8000-00000000000a') = '1'
               else pg_temp.attempt(s, 'update', 'a0000000-0000-4000-8000-00000000000a') in ('0', 'denied') end,
  format('owner %s their row in %s', case when s.owner_updates then 'updates' else 'cannot update' end, s.tbl)) from spec s order by s.tbl;
select ok(case when s.owner_deletes then pg_temp.attempt(s, 'delete', 'a0000000-0000-4000-8000-00000000000a') = '1'
               else pg_temp.attempt(s, 'delete', 'a0000000-0000-4000-8000-00000000000a') in ('0', 'denied') end,
  format('owner %s their row in %s', case when s.owner_deletes then 'deletes' else 'cannot delete' end, s.tbl)) from spec s order by s.tbl;

-- The service role: everything (reference rows referenced elsewhere stay protected by foreign keys).
select tests.authenticate_as_service_role();
select is(pg_temp.attempt(s, 'select', null), '1', format('service role reads %s', s.tbl)) from spec s order by s.tbl;
select is(pg_temp.attempt(s, 'update', null), '1', format('service role updates %s', s.tbl)) from spec s order by s.tbl;
select ok(case when s.service_deletes then pg_temp.attempt(s, 'delete', null) = '1'
               else pg_temp.attempt(s, 'delete', null) like '23503:%' end,
  format('service role %s %s', case when s.service_deletes then 'deletes from' else 'is stopped by a foreign key deleting from' end, s.tbl))
from spec s order by s.tbl;

-- Extra cases.
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');
select is(tests.try_rows('select token from public.email_verifications'), 'denied',
  'the owner cannot read verification token hashes');
select is(tests.try_rows('select id, user_id, email, expires_at, verified, verified_at, created_at, updated_at from public.email_verifications'),
  '1', 'the owner reads the state of their verification, without the token');
select is(tests.try_rows($$update public.chapters set book_id = 'b0000000-0000-4000-8000-0000000000b1' where id = 'a0000000-0000-4000-8000-0000000000c1'$$),
  'denied', 'the owner cannot move a chapter into another user''s book');
select is(tests.try_rows($$update public.books set status = 'ready' where id = 'a0000000-0000-4000-8000-0000000000b1'$$),
  'denied', 'the owner cannot set a book''s processing status');
select is(tests.try_rows($$update public.video_generations set status = 'completed' where id = 'a0000000-0000-4000-8000-000000000091'$$),
  'denied', 'the owner cannot write a generation''s status');
select matches(tests.try_rows($$delete from public.books where id = 'a0000000-0000-4000-8000-0000000000b9'$$),
  '^LT009: chapter 1 \("Filming"\) has a video being made', 'the owner cannot delete a book whose video is being made');
select is(tests.try_rows($$select 1 from public.model_metrics$$), '0', 'a user reads no model metrics');
select tests.clear_authentication();
update public.video_generations set status = 'script' where id = 'a0000000-0000-4000-8000-000000000091';
update public.video_generations set status = 'canceled' where id = 'a0000000-0000-4000-8000-000000000091';
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');
select is(tests.try_rows($$delete from public.video_generations where id = 'a0000000-0000-4000-8000-000000000091'$$),
  '1', 'the owner deletes a finished (canceled) generation');

select tests.authenticate_as('c0000000-0000-4000-8000-00000000000c');
select is(tests.try_rows($$select 1 from public.model_metrics$$), '1', 'a superadmin reads model metrics');
select is(tests.try_rows($$select 1 from public.usage_logs where user_id = 'a0000000-0000-4000-8000-00000000000a'$$), '1',
  'a superadmin reads another user''s usage');
select is(tests.try_rows($$select 1 from public.operator_alerts where id = 'a0000000-0000-4000-8000-0000000000a8'$$), '1',
  'a superadmin reads operator alerts');
select is(tests.try_rows($$select 1 from public.account_deletions where id = 'a0000000-0000-4000-8000-0000000000a9'$$), '1',
  'a superadmin reads the account deletions audit');
select is(tests.try_rows($$update public.account_deletions set books = 0 where true$$), 'denied',
  'a superadmin cannot change the audit');
select is(tests.try_rows($$select 1 from public.chapter_passages$$), '0', 'a superadmin reads no one else''s passages');
select is(tests.try_rows($$insert into public.badges (name, description, category, criteria) values ('Admin badge', 'd', 'skill', '{"metric": "x", "threshold": 1}')$$),
  '1', 'a superadmin adds a badge');
select is(tests.try_rows($$update public.character_archetypes set description = 'x' where name = 'Hero'$$),
  '1', 'a superadmin edits an archetype');
select is(tests.try_rows($$update public.character_archetypes set is_active = false where name = 'Sage'$$),
  '1', 'a superadmin retires an archetype');

-- Storage: each user only under their own folder.
select tests.clear_authentication();
update public.character_archetypes set is_active = false where name = 'Sage';
insert into storage.objects (bucket_id, name, owner) values
  ('books', 'a0000000-0000-4000-8000-00000000000a/book.txt', 'a0000000-0000-4000-8000-00000000000a');
select tests.authenticate_as_anon();
select is(tests.try_rows($$select 1 from public.character_archetypes where name = 'Sage'$$), '0',
  'anon does not see a retired archetype');
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');
select is(tests.try_rows($$insert into storage.objects (bucket_id, name) values ('media', 'a0000000-0000-4000-8000-00000000000a/x.png')$$),
  '1', 'a user uploads into their own folder');
select is(tests.try_rows($$insert into storage.objects (bucket_id, name) values ('media', 'b0000000-0000-4000-8000-00000000000b/x.png')$$),
  'denied', 'a user cannot upload into another user''s folder');
select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');
select is(tests.try_rows($$select 1 from storage.objects where bucket_id = 'books'$$), '0',
  'another user cannot see the owner''s files');

-- A generation's files are the pipeline's: their owner reads them, only the service role writes them.
select tests.clear_authentication();
insert into storage.objects (bucket_id, name) values
  ('media', 'a0000000-0000-4000-8000-00000000000a/generations/a0000000-0000-4000-8000-000000000090/scene-1/audio.wav'),
  ('media', 'a0000000-0000-4000-8000-00000000000a/reference.png');
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');
select is(tests.try_rows($$select 1 from storage.objects where name like '%/generations/%'$$), '1',
  'the owner reads their generation''s files');
select is(tests.try_rows($$insert into storage.objects (bucket_id, name) values
    ('media', 'a0000000-0000-4000-8000-00000000000a/generations/a0000000-0000-4000-8000-000000000090/scene-2/audio.wav')$$),
  'denied', 'the owner cannot add a file to a generation''s folder');
select is(tests.try_rows($$update storage.objects set metadata = '{"size": 1}' where name like '%/generations/%'$$), '0',
  'the owner cannot replace a generation''s file');
select is(tests.try_rows($$update storage.objects set name = 'a0000000-0000-4000-8000-00000000000a/generations/x.png'
    where name = 'a0000000-0000-4000-8000-00000000000a/reference.png'$$), 'denied',
  'the owner cannot move a file of their own into a generation''s folder');
select is(tests.try_rows($$delete from storage.objects where name like '%/generations/%'$$), '0',
  'the owner cannot delete a generation''s file');
select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');
select is(tests.try_rows($$select 1 from storage.objects where name like '%/generations/%'$$), '0',
  'another user cannot see the owner''s generation files');
select tests.authenticate_as_anon();
select is(tests.try_rows($$select 1 from storage.objects where name like '%/generations/%'$$), '0',
  'anon cannot see generation files');
select tests.authenticate_as_service_role();
select is(tests.try_rows($$update storage.objects set metadata = '{"size": 1}' where name like '%/generations/%'$$), '1',
  'the service role replaces a generation''s file');

select * from finish();
rollback;
