-- Constraints and foreign key actions: bad values fail with the expected error.
begin;
select plan(39);

insert into auth.users (id, email) values ('d0000000-0000-4000-8000-00000000000d', 'c@constraints.test');
insert into public.books (id, user_id, title) values
  ('d0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d', 'B1'),
  ('d0000000-0000-4000-8000-0000000000b2', 'd0000000-0000-4000-8000-00000000000d', 'B2');
insert into public.chapters (id, book_id, chapter_number, title) values
  ('d0000000-0000-4000-8000-0000000000c1', 'd0000000-0000-4000-8000-0000000000b1', 1, 'One');
insert into public.scripts (id, chapter_id, user_id, script_style, title, script) values
  ('d0000000-0000-4000-8000-0000000000d1', 'd0000000-0000-4000-8000-0000000000c1', 'd0000000-0000-4000-8000-00000000000d', 'cinematic', 'S', 'x');
insert into public.scene_descriptions (id, script_id, scene_number, visual_description) values
  ('d0000000-0000-4000-8000-0000000000f1', 'd0000000-0000-4000-8000-0000000000d1', 1, 'v');
-- (A second script no video is being made from: its owner may write its scenes.)
insert into public.scripts (id, chapter_id, user_id, script_style, title, script) values
  ('d0000000-0000-4000-8000-0000000000d2', 'd0000000-0000-4000-8000-0000000000c1', 'd0000000-0000-4000-8000-00000000000d', 'narration', 'S2', 'x');
insert into public.plot_overviews (id, book_id, user_id, logline) values
  ('d0000000-0000-4000-8000-000000000071', 'd0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d', 'L');
insert into public.chapter_scripts (chapter_id, script_id, plot_overview_id, user_id) values
  ('d0000000-0000-4000-8000-0000000000c1', 'd0000000-0000-4000-8000-0000000000d1', 'd0000000-0000-4000-8000-000000000071', 'd0000000-0000-4000-8000-00000000000d');
insert into public.video_generations (id, user_id, chapter_id, script_id, script_style) values
  ('d0000000-0000-4000-8000-000000000091', 'd0000000-0000-4000-8000-00000000000d', 'd0000000-0000-4000-8000-0000000000c1',
   'd0000000-0000-4000-8000-0000000000d1', 'cinematic');
insert into public.scene_videos (id, video_generation_id, scene_description_id, user_id, scene_number) values
  ('d0000000-0000-4000-8000-000000000095', 'd0000000-0000-4000-8000-000000000091', 'd0000000-0000-4000-8000-0000000000f1',
   'd0000000-0000-4000-8000-00000000000d', 1);
insert into public.lipsync_jobs (scene_video_id, video_generation_id, user_id) values
  ('d0000000-0000-4000-8000-000000000095', 'd0000000-0000-4000-8000-000000000091', 'd0000000-0000-4000-8000-00000000000d');
insert into public.merge_jobs (video_generation_id, user_id) values
  ('d0000000-0000-4000-8000-000000000091', 'd0000000-0000-4000-8000-00000000000d');

-- A script's size bounds what one generation may cost, for scenes its owner writes too.
select tests.authenticate_as('d0000000-0000-4000-8000-00000000000d');
select lives_ok($$insert into public.scene_descriptions (script_id, scene_number, visual_description, narration, dialogue)
  values ('d0000000-0000-4000-8000-0000000000d2', 60, 'v', repeat('n', 2000),
          (select jsonb_agg(jsonb_build_object('speaker', 'A', 'line', repeat('l', 500))) from generate_series(1, 40)))$$,
  'the owner writes a scene at every limit');
select throws_ok($$insert into public.scene_descriptions (script_id, scene_number, visual_description)
  values ('d0000000-0000-4000-8000-0000000000d2', 61, 'v')$$, '23514', null, 'a 61st scene is refused');
select throws_ok($$insert into public.scene_descriptions (script_id, scene_number, visual_description, narration)
  values ('d0000000-0000-4000-8000-0000000000d2', 2, 'v', repeat('n', 2001))$$, '23514', null,
  'narration over 2,000 characters is refused');
select throws_ok($$update public.scene_descriptions set dialogue =
    (select jsonb_agg(jsonb_build_object('speaker', 'A', 'line', 'hi')) from generate_series(1, 41))
  where script_id = 'd0000000-0000-4000-8000-0000000000d2' and scene_number = 60$$, '23514', null, 'a 41st dialogue line is refused');
select throws_ok($$update public.scene_descriptions set dialogue = jsonb_build_array(jsonb_build_object('speaker', 'A', 'line', repeat('l', 501)))
  where script_id = 'd0000000-0000-4000-8000-0000000000d2' and scene_number = 60$$, '23514', null, 'a dialogue line over 500 characters is refused');
select tests.clear_authentication();

-- Bad values.
select throws_ok($$insert into public.chapters (book_id, chapter_number, title) values ('d0000000-0000-4000-8000-0000000000b1', 0, 'Zero')$$,
  '23514', null, 'chapter_number 0 is refused');
select throws_ok($$insert into public.chapters (book_id, chapter_number, title) values ('d0000000-0000-4000-8000-0000000000b1', 1, 'Again')$$,
  '23505', null, 'a duplicate chapter number in a book is refused');
select lives_ok($$insert into public.chapters (book_id, chapter_number, title) values ('d0000000-0000-4000-8000-0000000000b2', 1, 'Other book')$$,
  'the same chapter number in another book is fine');
select throws_ok($$update public.video_generations set progress_percentage = 101 where id = 'd0000000-0000-4000-8000-000000000091'$$,
  '23514', null, 'progress 101 is refused');
select throws_ok($$update public.books set progress_percentage = -1 where id = 'd0000000-0000-4000-8000-0000000000b1'$$,
  '23514', null, 'negative book progress is refused');
select throws_ok($$update public.user_subscriptions set tier = 'platinum' where user_id = 'd0000000-0000-4000-8000-00000000000d'$$,
  '22P02', null, 'an unknown tier is refused');
select throws_ok($$insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, cost_usd, tier_at_time)
    values ('d0000000-0000-4000-8000-00000000000d', 'script', 'p', 'm', 'o', -0.01, 'free')$$,
  '23514', null, 'a negative cost is refused');
select throws_ok($$update public.user_subscriptions set video_count_used = -1 where user_id = 'd0000000-0000-4000-8000-00000000000d'$$,
  '23514', null, 'a negative count is refused');
select throws_ok($$insert into public.chapter_embeddings (chapter_id, content_hash, embedding, embedding_model)
    values ('d0000000-0000-4000-8000-0000000000c1', 'h', '[1,2,3]', 'm')$$,
  '22000', null, 'a chapter embedding of the wrong dimension is refused');
select throws_ok($$insert into public.chapter_passages (chapter_id, passage_index, content, content_hash, embedding, embedding_model)
    values ('d0000000-0000-4000-8000-0000000000c1', 0, 'x', 'h', '[1,2,3]', 'm')$$,
  '22000', null, 'a passage embedding of the wrong dimension is refused');
select throws_ok($$insert into public.badges (name, description, category, criteria) values ('Vague', 'd', 'achievement', '{}')$$,
  '23514', null, 'a badge without machine-readable criteria is refused');
select throws_ok($$insert into public.characters (plot_overview_id, book_id, user_id, name)
    values ('d0000000-0000-4000-8000-000000000071', 'd0000000-0000-4000-8000-0000000000b2', 'd0000000-0000-4000-8000-00000000000d', 'Stray')$$,
  '23514', null, 'a character cannot belong to a different book than its plot');
select throws_ok($$insert into public.characters (plot_overview_id, book_id, user_id, name, archetypes)
    values ('d0000000-0000-4000-8000-000000000071', 'd0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d',
            'Nobody', jsonb_build_array((select id from public.character_archetypes where name = 'Hero'), gen_random_uuid()))$$,
  '23503', null, 'a character cannot name an archetype id that does not exist');
select throws_ok($$insert into public.characters (plot_overview_id, book_id, user_id, name, archetypes)
    values ('d0000000-0000-4000-8000-000000000071', 'd0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d',
            'Typo', '["hero"]')$$,
  '23503', null, 'an archetype entry that is not an id is refused');
insert into public.characters (plot_overview_id, book_id, user_id, name, archetypes)
values ('d0000000-0000-4000-8000-000000000071', 'd0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d',
        'Mara', jsonb_build_array((select id from public.character_archetypes where name = 'Mentor')));
select throws_ok($$update public.characters set archetypes = archetypes || to_jsonb(gen_random_uuid()) where name = 'Mara'$$,
  '23503', null, 'an update cannot add an unknown archetype id either');

-- Uniqueness.
select throws_ok($$insert into public.plot_overviews (book_id, user_id, version, logline)
    values ('d0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d', 2, 'Second')$$,
  '23505', null, 'a second active plot overview for a book is refused');
select lives_ok($$insert into public.plot_overviews (book_id, user_id, version, status, logline)
    values ('d0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-00000000000d', 2, 'archived', 'Old')$$,
  'archived versions may accumulate');
select throws_ok($$insert into public.merge_jobs (video_generation_id, user_id) values ('d0000000-0000-4000-8000-000000000091', 'd0000000-0000-4000-8000-00000000000d')$$,
  '23505', null, 'a second merge job for a generation is refused');
select throws_ok($$insert into public.lipsync_jobs (scene_video_id, video_generation_id, user_id)
    values ('d0000000-0000-4000-8000-000000000095', 'd0000000-0000-4000-8000-000000000091', 'd0000000-0000-4000-8000-00000000000d')$$,
  '23505', null, 'a second lipsync job for a scene video is refused');
select throws_ok($$insert into public.user_subscriptions (user_id) values ('d0000000-0000-4000-8000-00000000000d')$$,
  '23505', null, 'a second subscription for a user is refused');
select throws_ok($$insert into public.user_progress (user_id) values ('d0000000-0000-4000-8000-00000000000d')$$,
  '23505', null, 'a second progress row for a user is refused');
insert into public.model_metrics (model_name, provider, date) values ('m', 'p', '2026-01-01');
select throws_ok($$insert into public.model_metrics (model_name, provider, date) values ('m', 'p', '2026-01-01')$$,
  '23505', null, 'a second metrics row for a model and day is refused');

-- Generation status transitions.
select throws_ok($$update public.video_generations set status = 'completed' where id = 'd0000000-0000-4000-8000-000000000091'$$,
  '23514', null, 'a pending generation cannot jump to completed');
update public.video_generations set status = 'images', progress_percentage = 40 where id = 'd0000000-0000-4000-8000-000000000091';
update public.video_generations set progress_percentage = 20 where id = 'd0000000-0000-4000-8000-000000000091';
select is((select progress_percentage from public.video_generations where id = 'd0000000-0000-4000-8000-000000000091'), 40,
  'progress never decreases');
update public.video_generations set status = 'merge' where id = 'd0000000-0000-4000-8000-000000000091';
select throws_ok($$update public.video_generations set status = 'completed' where id = 'd0000000-0000-4000-8000-000000000091'$$,
  '23514', 'new row for relation "video_generations" violates check constraint "video_generations_completed_has_video"',
  'a generation cannot complete without its video');
select throws_ok($$update public.video_generations set status = 'failed' where id = 'd0000000-0000-4000-8000-000000000091'$$,
  '23514', 'new row for relation "video_generations" violates check constraint "video_generations_failed_has_error"',
  'a generation cannot fail without an error message');
update public.video_generations set status = 'canceled' where id = 'd0000000-0000-4000-8000-000000000091';
select throws_ok($$update public.video_generations set status = 'script' where id = 'd0000000-0000-4000-8000-000000000091'$$,
  '23514', null, 'a canceled generation stays canceled');

-- Foreign key actions.
select throws_ok($$delete from public.scripts where id = 'd0000000-0000-4000-8000-0000000000d1'$$,
  '23503', null, 'a script a video uses cannot be deleted');
select throws_ok($$delete from public.character_archetypes where name = 'Mentor'$$,
  '23503', null, 'an archetype a character uses cannot be deleted');
select lives_ok($$delete from public.character_archetypes where name = 'Magician'$$,
  'an archetype no character uses can be deleted');
delete from public.plot_overviews where id = 'd0000000-0000-4000-8000-000000000071';
select is((select plot_overview_id from public.chapter_scripts where script_id = 'd0000000-0000-4000-8000-0000000000d1'), null,
  'deleting a plot overview keeps the chapter script and clears its link');
select lives_ok($$delete from public.chapters where id = 'd0000000-0000-4000-8000-0000000000c1'$$,
  'deleting a chapter removes its scripts and videos together');
select is((select count(*)::integer from public.video_generations where user_id = 'd0000000-0000-4000-8000-00000000000d'), 0,
  'the chapter''s videos are gone');
delete from auth.users where id = 'd0000000-0000-4000-8000-00000000000d';
select is((select count(*)::integer from public.books where user_id = 'd0000000-0000-4000-8000-00000000000d')
  + (select count(*)::integer from public.user_subscriptions where user_id = 'd0000000-0000-4000-8000-00000000000d')
  + (select count(*)::integer from public.profiles where id = 'd0000000-0000-4000-8000-00000000000d'), 0,
  'deleting the auth user removes their profile, subscription and content');

select * from finish();
rollback;
