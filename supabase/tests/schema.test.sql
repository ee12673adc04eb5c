-- Structure: the ERD's tables, keys, types, enums, constraints, indexes and publication.
begin;
select plan(100);

select tables_are('public', array[
  'profiles', 'user_roles', 'email_verifications',
  'books', 'book_structure', 'chapters', 'chapter_embeddings', 'chapter_passages', 'scripts', 'scene_descriptions',
  'plot_overviews', 'characters', 'character_archetypes', 'chapter_scripts',
  'image_generations', 'image_generation_retries', 'audio_generations', 'video_generations', 'scene_videos',
  'lipsync_jobs', 'merge_jobs', 'merge_assets',
  'user_subscriptions', 'subscription_history', 'usage_logs', 'cost_aggregations', 'model_metrics',
  'badges', 'user_badges', 'nfts', 'user_progress', 'quiz_attempts',
  'operator_alerts', 'operator_alert_settings', 'account_deletions', 'audiobook_exports'
], 'public has exactly the 30 tables of the ERD, plus chapter_passages, quiz_attempts, the operator alerts, account_deletions and audiobook_exports');

-- Every table: primary key, RLS, timestamps, updated_at trigger, a comment.
create temp view public_tables as
  select c.oid, c.relname::text as name, c.relrowsecurity as rls
  from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p');
select is((select array_agg(name order by name) from public_tables where not rls), null, 'RLS is enabled on every table');
select is((select array_agg(name order by name) from public_tables t
           where not exists (select 1 from pg_constraint k where k.conrelid = t.oid and k.contype = 'p')),
  null, 'every table has a primary key');
select is((select array_agg(name order by name) from public_tables t
           where (select count(*) from pg_attribute a where a.attrelid = t.oid and a.attname in ('created_at', 'updated_at')
                  and a.atttypid = 'timestamptz'::regtype and a.attnotnull) <> 2),
  null, 'every table has not-null created_at and updated_at timestamptz');
select is((select array_agg(name order by name) from public_tables t
           where not exists (select 1 from pg_trigger g where g.tgrelid = t.oid
                             and g.tgfoid = 'private.set_updated_at()'::regprocedure)),
  null, 'every table keeps updated_at with the shared trigger');
select is((select array_agg(name order by name) from public_tables t where obj_description(t.oid, 'pg_class') is null),
  null, 'every table has a comment');
select is((select array_agg(name order by name) from public_tables t
           where not exists (select 1 from pg_policy p where p.polrelid = t.oid)),
  null, 'every table has at least one policy');

-- Every foreign key is covered by an index whose leading columns are the key's columns.
select is((
  select array_agg(k.conrelid::regclass::text || '(' || k.conname || ')' order by 1)
  from pg_constraint k
  where k.contype = 'f' and k.connamespace = 'public'::regnamespace
    and not exists (
      select 1 from pg_index i
      where i.indrelid = k.conrelid
        and (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] @> k.conkey
        and (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] <@ k.conkey)
), null, 'every foreign key has an index');

-- Policies are written for performance: auth.uid() wrapped in a subquery.
select is((select array_agg(tablename || ': ' || policyname) from pg_policies
           where schemaname = 'public' and (qual ~ 'auth\.uid\(\)' and qual !~ 'SELECT auth\.uid\(\)'
             or with_check ~ 'auth\.uid\(\)' and with_check !~ 'SELECT auth\.uid\(\)')),
  null, 'no policy calls auth.uid() per row');

-- Key columns and types.
select col_type_is('public', 'chapter_embeddings', 'embedding', 'extensions', 'vector(1536)', 'embeddings have 1536 dimensions');
select col_type_is('public', 'chapter_passages', 'embedding', 'extensions', 'vector(1536)', 'passage embeddings have 1536 dimensions');
select col_type_is('public', 'profiles', 'roles', 'jsonb', 'profiles.roles is a JSON array of role names');
select col_type_is('public', 'scripts', 'status', 'script_status', 'scripts have a draft/active/archived status');
select col_type_is('public', 'characters', 'archetypes', 'jsonb', 'characters name their archetypes in a JSON array');
select is((select attgenerated::text from pg_attribute where attrelid = 'public.email_verifications'::regclass and attname = 'verified'),
  's', 'email_verifications.verified is a stored generated column');
select is((select attgenerated::text from pg_attribute where attrelid = 'public.image_generations'::regclass and attname = 'subject_key'),
  's', 'image_generations.subject_key is a stored generated column');
select col_is_pk('public', 'profiles', 'id', 'profiles are keyed by the auth user id');
select fk_ok('public', 'profiles', 'id', 'auth', 'users', 'id');
select col_type_is('public', 'video_generations', 'progress_percentage', 'integer', 'progress is an integer percentage');
select col_type_is('public', 'usage_logs', 'cost_usd', 'numeric(12,6)', 'costs are exact decimals');
select col_not_null('public', 'chapters', 'content', 'a chapter always has content');
select col_not_null('public', 'usage_logs', 'model_used', 'a usage log names its model');
select col_type_is('public', 'user_subscriptions', 'tier', 'subscription_tier', 'subscriptions use the tier enum');
select col_type_is('public', 'audio_generations', 'duration_ms', 'integer', 'audio length is in milliseconds');

-- Enumerations.
select enum_has_labels('public', 'book_type', array['learning', 'entertainment']);
select enum_has_labels('public', 'book_structure_type', array['linear', 'chapters', 'mixed']);
select enum_has_labels('public', 'book_status', array['draft', 'processing', 'ready', 'failed']);
select enum_has_labels('public', 'user_mode', array['learning', 'creator', 'entertainment']);
select enum_has_labels('public', 'app_role', array['user', 'creator', 'author', 'admin', 'superadmin']);
select enum_has_labels('public', 'script_style', array['cinematic', 'narration', 'educational']);
select enum_has_labels('public', 'script_status', array['draft', 'active', 'archived']);
select enum_has_labels('public', 'archetype_category',
  array['hero', 'mentor', 'ally', 'herald', 'trickster', 'shapeshifter', 'threshold_guardian', 'shadow']);
select enum_has_labels('public', 'plot_status', array['active', 'archived', 'deleted']);
select enum_has_labels('public', 'generation_method', array['openrouter', 'manual', 'openai', 'offline']);
select enum_has_labels('public', 'character_role',
  array['protagonist', 'antagonist', 'supporting', 'minor', 'deuteragonist', 'mentor', 'love_interest', 'sidekick']);
select enum_has_labels('public', 'time_of_day', array['dawn', 'morning', 'noon', 'afternoon', 'evening', 'night', 'unspecified']);
select enum_has_labels('public', 'image_type', array['scene', 'character', 'cover']);
select enum_has_labels('public', 'audio_type', array['narration', 'dialogue', 'music', 'sound_effect']);
select enum_has_labels('public', 'generation_status',
  array['pending', 'script', 'images', 'audio', 'video', 'lipsync', 'merge', 'completed', 'failed', 'canceled']);
select hasnt_type('public', 'job_status', 'job_status is gone: each job table has its own status enum');
select enum_has_labels('public', 'media_job_status', array['pending', 'in_progress', 'completed', 'failed']);
select enum_has_labels('public', 'scene_video_status', array['pending', 'generating', 'completed', 'failed']);
select enum_has_labels('public', 'processing_status', array['pending', 'processing', 'completed', 'failed']);
select enum_has_labels('public', 'merge_type', array['auto', 'manual']);
select enum_has_labels('public', 'merge_asset_type', array['video', 'audio', 'image', 'subtitle']);
select enum_has_labels('public', 'pipeline_step', array['script', 'images', 'audio', 'video', 'lipsync', 'merge']);
select enum_has_labels('public', 'quality_tier', array['free', 'basic', 'standard', 'premium', 'professional']);
select enum_has_labels('public', 'subscription_tier', array['free', 'basic', 'standard', 'premium', 'professional', 'enterprise']);
select enum_has_labels('public', 'subscription_status', array['active', 'trialing', 'past_due', 'canceled', 'incomplete', 'unpaid']);
select enum_has_labels('public', 'change_reason', array['upgrade', 'downgrade', 'cancel', 'renewal', 'payment_failed', 'reactivation']);
select enum_has_labels('public', 'resource_type',
  array['script', 'image', 'audio', 'video', 'plot', 'embedding', 'lipsync', 'merge', 'content']);
select enum_has_labels('public', 'badge_category', array['achievement', 'milestone', 'skill']);
select enum_has_labels('public', 'badge_rarity', array['common', 'uncommon', 'rare', 'epic', 'legendary']);
select enum_has_labels('public', 'blockchain', array['algorand', 'polygon']);
select enum_has_labels('public', 'nft_status', array['pending', 'minting', 'minted', 'failed']);
select enum_has_labels('public', 'extraction_method', array['ai', 'manual', 'toc']);
select enum_has_labels('public', 'account_deletion_requester', array['user', 'superadmin', 'operator']);
select enum_has_labels('public', 'account_deletion_reason',
  array['user_request', 'terms_violation', 'legal_request', 'inactivity', 'other']);
select enum_has_labels('public', 'account_deletion_status', array['in_progress', 'completed']);

-- Uniqueness the ERD names.
select col_is_unique('public', 'book_structure', 'book_id', 'one structure per book');
select col_is_unique('public', 'chapters', array['book_id', 'chapter_number'], 'chapter numbers are unique per book');
select col_is_unique('public', 'merge_jobs', 'video_generation_id', 'one merge job per generation');
select col_is_unique('public', 'lipsync_jobs', 'scene_video_id', 'one lipsync job per scene video');
select col_is_unique('public', 'user_subscriptions', 'user_id', 'one subscription per user');
select col_is_unique('public', 'model_metrics', array['model_name', 'date'], 'one metrics row per model and day');
select col_is_unique('public', 'chapter_embeddings', 'chapter_id', 'one embedding per chapter');
select col_is_unique('public', 'chapter_passages', array['chapter_id', 'passage_index', 'user_id'],
  'passage numbers are unique per chapter (with its owner, the partition key)');
select col_is_unique('public', 'user_roles', array['user_id', 'role_name'], 'a role is granted to a user once');
select col_is_unique('public', 'cost_aggregations', array['user_id', 'period_start', 'period_end'], 'one rollup per user and period');
select col_is_unique('public', 'nfts', array['user_id', 'badge_id', 'blockchain'], 'a badge is minted once per chain');
select col_is_unique('public', 'user_progress', 'user_id', 'one progress row per user');
select is((select indexdef from pg_indexes where indexname = 'plot_overviews_one_active_per_book'),
  'CREATE UNIQUE INDEX plot_overviews_one_active_per_book ON public.plot_overviews USING btree (book_id) WHERE (status = ''active''::plot_status)',
  'one active plot overview per book');

-- Search: no ANN index over everyone's passages; large libraries get their own (search.test.sql).
select is((select count(*)::integer from pg_index x join pg_class i on i.oid = x.indexrelid join pg_am am on am.oid = i.relam
           where x.indrelid = 'public.chapter_passages'::regclass and am.amname in ('hnsw', 'ivfflat')), 0,
  'passages have no ANN index over every user');
select col_type_is('public', 'chapter_passages', 'embedding_half', 'extensions', 'halfvec(1536)',
  'passages keep a half-precision copy of their embedding');
select is((select pg_get_partkeydef('public.chapter_passages'::regclass)), 'HASH (user_id)',
  'passages are partitioned by owner');
select is(
  (select count(*)::integer from pg_inherits i join pg_class c on c.oid = i.inhrelid
   where i.inhparent = 'public.chapter_passages'::regclass and c.relnamespace = 'private'::regnamespace and c.relrowsecurity
     and not has_table_privilege('authenticated', c.oid, 'select') and not has_table_privilege('anon', c.oid, 'select')
     and (select a.attstorage from pg_attribute a where a.attrelid = c.oid and a.attname = 'embedding_half') = 'p'),
  (select count(*)::integer from pg_inherits where inhparent = 'public.chapter_passages'::regclass),
  'every passage partition is private (RLS on, no client grants) and keeps the half-precision copy in its rows');

-- Foreign key actions.
create temp view fk_actions as
  select k.conrelid::regclass::text as tbl, a.attname::text as col, k.confrelid::regclass::text as ref, k.confdeltype as action
  from pg_constraint k join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
  where k.contype = 'f';
select is((select action from fk_actions where tbl = 'video_generations' and col = 'script_id'), 'r'::"char",
  'a script used by a video cannot be deleted (RESTRICT)');
select is((select action from fk_actions where tbl = 'chapter_scripts' and col = 'plot_overview_id'), 'n'::"char",
  'chapter_scripts keeps its row when the plot overview goes (SET NULL)');
select is((select action from fk_actions where tbl = 'chapters' and col = 'book_id'), 'c'::"char", 'chapters cascade with their book');
select is((select action from fk_actions where tbl = 'books' and col = 'user_id'), 'c'::"char", 'books cascade with their owner');
select is((select action from fk_actions where tbl = 'profiles' and col = 'id'), 'c'::"char", 'profiles cascade with the auth user');
select has_trigger('public', 'character_archetypes', 'character_archetypes_protect_used',
  'an archetype in use cannot be deleted (trigger)');
select has_trigger('public', 'characters', 'characters_check_links', 'characters name only existing archetypes (trigger)');
select fk_ok('public', 'nfts', array['user_id', 'badge_id'], 'public', 'user_badges', array['user_id', 'badge_id'],
  'only an earned badge can be minted');
select is((select action from fk_actions where tbl = 'nfts' and col = 'badge_id'), 'r'::"char",
  'a minted badge cannot be deleted (RESTRICT)');

-- Realtime: the tables clients watch.
select set_eq(
  $$select tablename::text from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public'$$,
  array['books', 'video_generations', 'scene_videos', 'image_generations', 'audio_generations', 'lipsync_jobs', 'merge_jobs',
        'user_progress', 'user_badges', 'nfts', 'operator_alerts', 'audiobook_exports'],
  'the progress tables, the operator alerts and the audiobook exports are in the supabase_realtime publication');
-- Realtime does not filter DELETE events by RLS: what a delete sends must be a random id only, so no
-- published table has replica identity full, and each one's key is a single uuid.
select is((select array_agg(c.relname::text order by c.relname) from pg_publication_tables t
           join pg_class c on c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass
           where t.pubname = 'supabase_realtime' and c.relreplident <> 'd'),
  null, 'published tables keep the default replica identity (a delete carries the primary key only)');
select is((select array_agg(t.tablename::text order by t.tablename) from pg_publication_tables t
           join pg_index i on i.indrelid = format('%I.%I', t.schemaname, t.tablename)::regclass and i.indisprimary
           where t.pubname = 'supabase_realtime'
             and (i.indnatts <> 1 or (select a.atttypid from pg_attribute a
                                      where a.attrelid = i.indrelid and a.attnum = i.indkey[0]) <> 'uuid'::regtype)),
  null, 'and that key is a single uuid column: a delete event tells nothing but a random id');

-- Security definer functions pin their search path.
select is((select array_agg(p.oid::regprocedure::text) from pg_proc p
           where p.prosecdef and p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
             and not coalesce(p.proconfig @> array['search_path=""'], false)),
  null, 'every security definer function sets search_path to empty');
select is((select array_agg(p.oid::regprocedure::text) from pg_proc p
           where p.pronamespace = 'private'::regnamespace and has_function_privilege('anon', p.oid, 'execute')
             and p.oid::regprocedure::text not in ('private.has_role(app_role)', 'private.is_superadmin()')),
  null, 'anon can execute no private function except the role checks its policies call');

-- Storage buckets.
select set_eq($$select id from storage.buckets$$, array['books', 'covers', 'media', 'badges', 'nfts'], 'the five buckets exist');
select is((select array_agg(id order by id) from storage.buckets where public), array['badges', 'nfts'],
  'only the badge icons and minted NFTs'' files are public');
select is((select count(*)::integer from pg_policies where schemaname = 'storage' and tablename = 'objects'), 4,
  'storage.objects has one policy per command');

select has_function('public', 'grant_role', array['uuid', 'app_role']);
select has_function('public', 'revoke_role', array['uuid', 'app_role']);
select has_function('public', 'subscription_tiers', 'tiers are defined by one function');
select has_trigger('auth', 'users', 'on_auth_user_created', 'new auth users are set up by a trigger');
select has_trigger('public', 'video_generations', 'video_generations_guard_status', 'generation status changes are guarded');

select is(
  (select array_agg(format('%s %s', c.relname, p.privilege_type) order by c.relname, p.privilege_type)
   from pg_class c cross join (values ('TRUNCATE'), ('TRIGGER'), ('REFERENCES')) p (privilege_type)
   cross join (values ('anon'), ('authenticated')) r (role_name)
   where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
     and has_table_privilege(r.role_name, c.oid, p.privilege_type)),
  null, 'no client role may truncate a table (RLS does not apply to TRUNCATE), add triggers or reference it');

-- The RPCs a signed-in client may call: exactly the documented ones (docs/database.md).
select results_eq($$select p.proname::text collate "C" from pg_catalog.pg_proc p
                    where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
                      and has_function_privilege('authenticated', p.oid, 'execute')
                      and not exists (select 1 from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
                    order by 1$$,
  $$values ('account_deletion_preview' collate "C"), ('acknowledge_operator_alert'), ('cancel_video_generation'),
           ('confirm_book_structure'), ('delete_account'), ('estimate_video_generation'), ('generate_plot_overview'),
           ('generation_ceilings'), ('grant_role'), ('match_chapters'), ('process_book'), ('request_badge_nft'),
           ('retry_video_generation'), ('revoke_role'), ('start_audiobook_export'), ('start_video_generation'),
           ('submit_quiz'), ('subscription_tiers'), ('verify_email')$$,
  'a signed-in client may call exactly the documented RPCs');

select * from finish();
rollback;
