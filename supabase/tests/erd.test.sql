-- Conformance to the ERD (docs: litinkai-erd.md), table-driven.
-- The spec tables below are derived by hand from the ERD: every entity of the mermaid diagrams (the
-- union of the overall diagram and the per-domain ones), the SQL of "Table Definitions" and of
-- "Indexes & Constraints". They describe the ERD, not the migrations: update them only when the ERD
-- changes, and encode any decision to depart from it in the deviations list, with its reason.
-- One assertion per spec row, named after the item, so a failure says exactly what is missing.
begin;

-- 1. Columns: every ERD column, its exact name, and the family of its ERD type.
--    string, text -> text, character varying or an enum; integer -> integer, bigint, smallint;
--    decimal -> numeric; float -> double precision, real; timestamp -> timestamptz;
--    jsonb, boolean, date, uuid as named; vector -> pgvector's vector.
create temp table erd_columns (table_schema text, table_name text, column_name text, family text,
  ord serial);
insert into erd_columns (table_schema, table_name, column_name, family) values
  -- users is Supabase's auth.users
  ('auth', 'users', 'id', 'uuid'),
  ('auth', 'users', 'email', 'string'),
  ('auth', 'users', 'encrypted_password', 'string'),
  ('auth', 'users', 'email_confirmed_at', 'timestamp'),
  ('auth', 'users', 'last_sign_in_at', 'timestamp'),
  ('auth', 'users', 'raw_app_meta_data', 'jsonb'),
  ('auth', 'users', 'raw_user_meta_data', 'jsonb'),
  ('auth', 'users', 'created_at', 'timestamp'),
  ('auth', 'users', 'updated_at', 'timestamp'),
  -- profiles
  ('public', 'profiles', 'id', 'uuid'),
  ('public', 'profiles', 'email', 'string'),
  ('public', 'profiles', 'display_name', 'string'),
  ('public', 'profiles', 'avatar_url', 'text'),
  ('public', 'profiles', 'roles', 'jsonb'),
  ('public', 'profiles', 'user_mode', 'string'),
  ('public', 'profiles', 'onboarding_complete', 'boolean'),
  ('public', 'profiles', 'created_at', 'timestamp'),
  ('public', 'profiles', 'updated_at', 'timestamp'),
  -- user_roles
  ('public', 'user_roles', 'id', 'uuid'),
  ('public', 'user_roles', 'user_id', 'uuid'),
  ('public', 'user_roles', 'role_name', 'string'),
  ('public', 'user_roles', 'granted_at', 'timestamp'),
  ('public', 'user_roles', 'granted_by', 'uuid'),
  -- email_verifications
  ('public', 'email_verifications', 'id', 'uuid'),
  ('public', 'email_verifications', 'user_id', 'uuid'),
  ('public', 'email_verifications', 'token', 'string'),
  ('public', 'email_verifications', 'expires_at', 'timestamp'),
  ('public', 'email_verifications', 'verified', 'boolean'),
  ('public', 'email_verifications', 'verified_at', 'timestamp'),
  ('public', 'email_verifications', 'created_at', 'timestamp'),
  -- books
  ('public', 'books', 'id', 'uuid'),
  ('public', 'books', 'user_id', 'uuid'),
  ('public', 'books', 'title', 'string'),
  ('public', 'books', 'description', 'text'),
  ('public', 'books', 'book_type', 'string'),
  ('public', 'books', 'structure_type', 'string'),
  ('public', 'books', 'status', 'string'),
  ('public', 'books', 'file_url', 'text'),
  ('public', 'books', 'cover_url', 'text'),
  ('public', 'books', 'total_chapters', 'integer'),
  ('public', 'books', 'metadata', 'jsonb'),
  ('public', 'books', 'processing_started_at', 'timestamp'),
  ('public', 'books', 'processing_completed_at', 'timestamp'),
  ('public', 'books', 'created_at', 'timestamp'),
  ('public', 'books', 'updated_at', 'timestamp'),
  -- book_structure
  ('public', 'book_structure', 'id', 'uuid'),
  ('public', 'book_structure', 'book_id', 'uuid'),
  ('public', 'book_structure', 'structure_data', 'jsonb'),
  ('public', 'book_structure', 'extraction_method', 'string'),
  ('public', 'book_structure', 'confirmed_at', 'timestamp'),
  ('public', 'book_structure', 'created_at', 'timestamp'),
  -- chapters
  ('public', 'chapters', 'id', 'uuid'),
  ('public', 'chapters', 'book_id', 'uuid'),
  ('public', 'chapters', 'chapter_number', 'integer'),
  ('public', 'chapters', 'title', 'string'),
  ('public', 'chapters', 'content', 'text'),
  ('public', 'chapters', 'summary', 'text'),
  ('public', 'chapters', 'duration', 'integer'),
  ('public', 'chapters', 'ai_content', 'jsonb'),
  ('public', 'chapters', 'created_at', 'timestamp'),
  ('public', 'chapters', 'updated_at', 'timestamp'),
  -- chapter_embeddings
  ('public', 'chapter_embeddings', 'id', 'uuid'),
  ('public', 'chapter_embeddings', 'chapter_id', 'uuid'),
  ('public', 'chapter_embeddings', 'embedding', 'vector'),
  ('public', 'chapter_embeddings', 'embedding_model', 'string'),
  ('public', 'chapter_embeddings', 'dimension', 'integer'),
  ('public', 'chapter_embeddings', 'created_at', 'timestamp'),
  -- scripts
  ('public', 'scripts', 'id', 'uuid'),
  ('public', 'scripts', 'chapter_id', 'uuid'),
  ('public', 'scripts', 'user_id', 'uuid'),
  ('public', 'scripts', 'script_style', 'string'),
  ('public', 'scripts', 'script', 'text'),
  ('public', 'scripts', 'character_details', 'text'),
  ('public', 'scripts', 'scene_count', 'integer'),
  ('public', 'scripts', 'story_type', 'string'),
  ('public', 'scripts', 'linked_script_id', 'uuid'),
  ('public', 'scripts', 'status', 'string'),
  ('public', 'scripts', 'version', 'integer'),
  ('public', 'scripts', 'created_at', 'timestamp'),
  ('public', 'scripts', 'updated_at', 'timestamp'),
  -- scene_descriptions
  ('public', 'scene_descriptions', 'id', 'uuid'),
  ('public', 'scene_descriptions', 'script_id', 'uuid'),
  ('public', 'scene_descriptions', 'scene_number', 'integer'),
  ('public', 'scene_descriptions', 'location', 'string'),
  ('public', 'scene_descriptions', 'time_of_day', 'string'),
  ('public', 'scene_descriptions', 'characters', 'jsonb'),
  ('public', 'scene_descriptions', 'key_actions', 'text'),
  ('public', 'scene_descriptions', 'visual_description', 'text'),
  ('public', 'scene_descriptions', 'audio_requirements', 'text'),
  ('public', 'scene_descriptions', 'created_at', 'timestamp'),
  -- plot_overviews
  ('public', 'plot_overviews', 'id', 'uuid'),
  ('public', 'plot_overviews', 'book_id', 'uuid'),
  ('public', 'plot_overviews', 'user_id', 'uuid'),
  ('public', 'plot_overviews', 'logline', 'text'),
  ('public', 'plot_overviews', 'themes', 'jsonb'),
  ('public', 'plot_overviews', 'story_type', 'string'),
  ('public', 'plot_overviews', 'genre', 'string'),
  ('public', 'plot_overviews', 'tone', 'string'),
  ('public', 'plot_overviews', 'audience', 'string'),
  ('public', 'plot_overviews', 'setting', 'text'),
  ('public', 'plot_overviews', 'generation_method', 'string'),
  ('public', 'plot_overviews', 'model_used', 'string'),
  ('public', 'plot_overviews', 'generation_cost', 'decimal'),
  ('public', 'plot_overviews', 'status', 'string'),
  ('public', 'plot_overviews', 'version', 'integer'),
  ('public', 'plot_overviews', 'created_at', 'timestamp'),
  ('public', 'plot_overviews', 'updated_at', 'timestamp'),
  -- characters
  ('public', 'characters', 'id', 'uuid'),
  ('public', 'characters', 'plot_overview_id', 'uuid'),
  ('public', 'characters', 'book_id', 'uuid'),
  ('public', 'characters', 'user_id', 'uuid'),
  ('public', 'characters', 'name', 'string'),
  ('public', 'characters', 'role', 'string'),
  ('public', 'characters', 'character_arc', 'text'),
  ('public', 'characters', 'physical_description', 'text'),
  ('public', 'characters', 'personality', 'text'),
  ('public', 'characters', 'archetypes', 'jsonb'),
  ('public', 'characters', 'want', 'text'),
  ('public', 'characters', 'need', 'text'),
  ('public', 'characters', 'lie', 'text'),
  ('public', 'characters', 'ghost', 'text'),
  ('public', 'characters', 'image_url', 'string'),
  ('public', 'characters', 'image_generation_prompt', 'text'),
  ('public', 'characters', 'image_metadata', 'jsonb'),
  ('public', 'characters', 'generation_method', 'string'),
  ('public', 'characters', 'model_used', 'string'),
  ('public', 'characters', 'created_at', 'timestamp'),
  ('public', 'characters', 'updated_at', 'timestamp'),
  -- character_archetypes
  ('public', 'character_archetypes', 'id', 'uuid'),
  ('public', 'character_archetypes', 'name', 'string'),
  ('public', 'character_archetypes', 'description', 'text'),
  ('public', 'character_archetypes', 'category', 'string'),
  ('public', 'character_archetypes', 'traits', 'jsonb'),
  ('public', 'character_archetypes', 'typical_roles', 'jsonb'),
  ('public', 'character_archetypes', 'example_characters', 'text'),
  ('public', 'character_archetypes', 'is_active', 'boolean'),
  ('public', 'character_archetypes', 'created_at', 'timestamp'),
  -- chapter_scripts
  ('public', 'chapter_scripts', 'id', 'uuid'),
  ('public', 'chapter_scripts', 'chapter_id', 'uuid'),
  ('public', 'chapter_scripts', 'plot_overview_id', 'uuid'),
  ('public', 'chapter_scripts', 'script_id', 'uuid'),
  ('public', 'chapter_scripts', 'user_id', 'uuid'),
  ('public', 'chapter_scripts', 'plot_enhanced', 'boolean'),
  ('public', 'chapter_scripts', 'character_enhanced', 'boolean'),
  ('public', 'chapter_scripts', 'scenes', 'jsonb'),
  ('public', 'chapter_scripts', 'acts', 'jsonb'),
  ('public', 'chapter_scripts', 'beats', 'jsonb'),
  ('public', 'chapter_scripts', 'character_details', 'jsonb'),
  ('public', 'chapter_scripts', 'character_arcs', 'jsonb'),
  ('public', 'chapter_scripts', 'status', 'string'),
  ('public', 'chapter_scripts', 'version', 'integer'),
  ('public', 'chapter_scripts', 'generation_metadata', 'jsonb'),
  ('public', 'chapter_scripts', 'created_at', 'timestamp'),
  ('public', 'chapter_scripts', 'updated_at', 'timestamp'),
  -- image_generations
  ('public', 'image_generations', 'id', 'uuid'),
  ('public', 'image_generations', 'chapter_id', 'uuid'),
  ('public', 'image_generations', 'script_id', 'uuid'),
  ('public', 'image_generations', 'user_id', 'uuid'),
  ('public', 'image_generations', 'image_type', 'string'),
  ('public', 'image_generations', 'character_name', 'string'),
  ('public', 'image_generations', 'scene_number', 'integer'),
  ('public', 'image_generations', 'prompt', 'text'),
  ('public', 'image_generations', 'status', 'string'),
  ('public', 'image_generations', 'image_url', 'string'),
  ('public', 'image_generations', 'model_used', 'string'),
  ('public', 'image_generations', 'cost_usd', 'decimal'),
  ('public', 'image_generations', 'metadata', 'jsonb'),
  ('public', 'image_generations', 'error_message', 'text'),
  ('public', 'image_generations', 'retry_count', 'integer'),
  ('public', 'image_generations', 'started_at', 'timestamp'),
  ('public', 'image_generations', 'completed_at', 'timestamp'),
  ('public', 'image_generations', 'created_at', 'timestamp'),
  ('public', 'image_generations', 'updated_at', 'timestamp'),
  -- image_generation_retries
  ('public', 'image_generation_retries', 'id', 'uuid'),
  ('public', 'image_generation_retries', 'image_generation_id', 'uuid'),
  ('public', 'image_generation_retries', 'attempt_number', 'integer'),
  ('public', 'image_generation_retries', 'model_used', 'string'),
  ('public', 'image_generation_retries', 'status', 'string'),
  ('public', 'image_generation_retries', 'error_message', 'text'),
  ('public', 'image_generation_retries', 'cost_usd', 'decimal'),
  ('public', 'image_generation_retries', 'attempted_at', 'timestamp'),
  -- audio_generations
  ('public', 'audio_generations', 'id', 'uuid'),
  ('public', 'audio_generations', 'chapter_id', 'uuid'),
  ('public', 'audio_generations', 'script_id', 'uuid'),
  ('public', 'audio_generations', 'scene_description_id', 'uuid'),
  ('public', 'audio_generations', 'user_id', 'uuid'),
  ('public', 'audio_generations', 'audio_type', 'string'),
  ('public', 'audio_generations', 'scene_number', 'integer'),
  ('public', 'audio_generations', 'text_content', 'text'),
  ('public', 'audio_generations', 'voice_id', 'string'),
  ('public', 'audio_generations', 'voice_settings', 'jsonb'),
  ('public', 'audio_generations', 'status', 'string'),
  ('public', 'audio_generations', 'audio_url', 'string'),
  ('public', 'audio_generations', 'duration_ms', 'integer'),
  ('public', 'audio_generations', 'model_used', 'string'),
  ('public', 'audio_generations', 'cost_usd', 'decimal'),
  ('public', 'audio_generations', 'metadata', 'jsonb'),
  ('public', 'audio_generations', 'error_message', 'text'),
  ('public', 'audio_generations', 'started_at', 'timestamp'),
  ('public', 'audio_generations', 'completed_at', 'timestamp'),
  ('public', 'audio_generations', 'created_at', 'timestamp'),
  ('public', 'audio_generations', 'updated_at', 'timestamp'),
  -- video_generations
  ('public', 'video_generations', 'id', 'uuid'),
  ('public', 'video_generations', 'chapter_id', 'uuid'),
  ('public', 'video_generations', 'script_id', 'uuid'),
  ('public', 'video_generations', 'user_id', 'uuid'),
  ('public', 'video_generations', 'status', 'string'),
  ('public', 'video_generations', 'progress_percentage', 'integer'),
  ('public', 'video_generations', 'last_completed_step', 'string'),
  ('public', 'video_generations', 'current_step', 'string'),
  ('public', 'video_generations', 'error_message', 'text'),
  ('public', 'video_generations', 'video_url', 'string'),
  ('public', 'video_generations', 'quality_tier', 'string'),
  ('public', 'video_generations', 'total_cost_usd', 'decimal'),
  ('public', 'video_generations', 'pipeline_metadata', 'jsonb'),
  ('public', 'video_generations', 'total_scenes', 'integer'),
  ('public', 'video_generations', 'completed_scenes', 'integer'),
  ('public', 'video_generations', 'started_at', 'timestamp'),
  ('public', 'video_generations', 'completed_at', 'timestamp'),
  ('public', 'video_generations', 'created_at', 'timestamp'),
  ('public', 'video_generations', 'updated_at', 'timestamp'),
  -- scene_videos
  ('public', 'scene_videos', 'id', 'uuid'),
  ('public', 'scene_videos', 'video_generation_id', 'uuid'),
  ('public', 'scene_videos', 'scene_number', 'integer'),
  ('public', 'scene_videos', 'scene_video_url', 'string'),
  ('public', 'scene_videos', 'lipsynced_video_url', 'string'),
  ('public', 'scene_videos', 'duration_ms', 'integer'),
  ('public', 'scene_videos', 'status', 'string'),
  ('public', 'scene_videos', 'model_used', 'string'),
  ('public', 'scene_videos', 'cost_usd', 'decimal'),
  ('public', 'scene_videos', 'metadata', 'jsonb'),
  ('public', 'scene_videos', 'created_at', 'timestamp'),
  ('public', 'scene_videos', 'updated_at', 'timestamp'),
  -- lipsync_jobs
  ('public', 'lipsync_jobs', 'id', 'uuid'),
  ('public', 'lipsync_jobs', 'scene_video_id', 'uuid'),
  ('public', 'lipsync_jobs', 'video_generation_id', 'uuid'),
  ('public', 'lipsync_jobs', 'audio_generation_id', 'uuid'),
  ('public', 'lipsync_jobs', 'status', 'string'),
  ('public', 'lipsync_jobs', 'input_video_url', 'string'),
  ('public', 'lipsync_jobs', 'input_audio_url', 'string'),
  ('public', 'lipsync_jobs', 'output_video_url', 'string'),
  ('public', 'lipsync_jobs', 'model_used', 'string'),
  ('public', 'lipsync_jobs', 'cost_usd', 'decimal'),
  ('public', 'lipsync_jobs', 'error_message', 'text'),
  ('public', 'lipsync_jobs', 'started_at', 'timestamp'),
  ('public', 'lipsync_jobs', 'completed_at', 'timestamp'),
  ('public', 'lipsync_jobs', 'created_at', 'timestamp'),
  -- merge_jobs
  ('public', 'merge_jobs', 'id', 'uuid'),
  ('public', 'merge_jobs', 'video_generation_id', 'uuid'),
  ('public', 'merge_jobs', 'user_id', 'uuid'),
  ('public', 'merge_jobs', 'merge_type', 'string'),
  ('public', 'merge_jobs', 'status', 'string'),
  ('public', 'merge_jobs', 'input_videos', 'jsonb'),
  ('public', 'merge_jobs', 'ffmpeg_params', 'jsonb'),
  ('public', 'merge_jobs', 'output_video_url', 'string'),
  ('public', 'merge_jobs', 'output_duration_ms', 'integer'),
  ('public', 'merge_jobs', 'output_size_bytes', 'integer'),
  ('public', 'merge_jobs', 'error_message', 'text'),
  ('public', 'merge_jobs', 'started_at', 'timestamp'),
  ('public', 'merge_jobs', 'completed_at', 'timestamp'),
  ('public', 'merge_jobs', 'created_at', 'timestamp'),
  ('public', 'merge_jobs', 'updated_at', 'timestamp'),
  -- merge_assets
  ('public', 'merge_assets', 'id', 'uuid'),
  ('public', 'merge_assets', 'merge_job_id', 'uuid'),
  ('public', 'merge_assets', 'asset_type', 'string'),
  ('public', 'merge_assets', 'asset_url', 'string'),
  ('public', 'merge_assets', 'sequence_order', 'integer'),
  ('public', 'merge_assets', 'transform_params', 'jsonb'),
  ('public', 'merge_assets', 'created_at', 'timestamp'),
  -- user_subscriptions
  ('public', 'user_subscriptions', 'id', 'uuid'),
  ('public', 'user_subscriptions', 'user_id', 'uuid'),
  ('public', 'user_subscriptions', 'tier', 'string'),
  ('public', 'user_subscriptions', 'status', 'string'),
  ('public', 'user_subscriptions', 'stripe_subscription_id', 'string'),
  ('public', 'user_subscriptions', 'stripe_customer_id', 'string'),
  ('public', 'user_subscriptions', 'current_period_start', 'timestamp'),
  ('public', 'user_subscriptions', 'current_period_end', 'timestamp'),
  ('public', 'user_subscriptions', 'video_count_limit', 'integer'),
  ('public', 'user_subscriptions', 'video_count_used', 'integer'),
  ('public', 'user_subscriptions', 'cancel_at_period_end', 'boolean'),
  ('public', 'user_subscriptions', 'trial_end', 'timestamp'),
  ('public', 'user_subscriptions', 'created_at', 'timestamp'),
  ('public', 'user_subscriptions', 'updated_at', 'timestamp'),
  -- subscription_history
  ('public', 'subscription_history', 'id', 'uuid'),
  ('public', 'subscription_history', 'user_id', 'uuid'),
  ('public', 'subscription_history', 'subscription_id', 'uuid'),
  ('public', 'subscription_history', 'from_tier', 'string'),
  ('public', 'subscription_history', 'to_tier', 'string'),
  ('public', 'subscription_history', 'change_reason', 'string'),
  ('public', 'subscription_history', 'effective_date', 'timestamp'),
  ('public', 'subscription_history', 'created_at', 'timestamp'),
  -- usage_logs
  ('public', 'usage_logs', 'id', 'uuid'),
  ('public', 'usage_logs', 'user_id', 'uuid'),
  ('public', 'usage_logs', 'subscription_id', 'uuid'),
  ('public', 'usage_logs', 'resource_type', 'string'),
  ('public', 'usage_logs', 'model_used', 'string'),
  ('public', 'usage_logs', 'input_tokens', 'integer'),
  ('public', 'usage_logs', 'output_tokens', 'integer'),
  ('public', 'usage_logs', 'duration_seconds', 'float'),
  ('public', 'usage_logs', 'cost_usd', 'decimal'),
  ('public', 'usage_logs', 'tier_at_time', 'string'),
  ('public', 'usage_logs', 'metadata', 'jsonb'),
  ('public', 'usage_logs', 'created_at', 'timestamp'),
  -- cost_aggregations
  ('public', 'cost_aggregations', 'id', 'uuid'),
  ('public', 'cost_aggregations', 'user_id', 'uuid'),
  ('public', 'cost_aggregations', 'period_start', 'date'),
  ('public', 'cost_aggregations', 'period_end', 'date'),
  ('public', 'cost_aggregations', 'total_cost', 'decimal'),
  ('public', 'cost_aggregations', 'total_videos', 'integer'),
  ('public', 'cost_aggregations', 'breakdown', 'jsonb'),
  ('public', 'cost_aggregations', 'created_at', 'timestamp'),
  -- model_metrics
  ('public', 'model_metrics', 'id', 'uuid'),
  ('public', 'model_metrics', 'model_name', 'string'),
  ('public', 'model_metrics', 'request_count', 'integer'),
  ('public', 'model_metrics', 'success_count', 'integer'),
  ('public', 'model_metrics', 'failure_count', 'integer'),
  ('public', 'model_metrics', 'avg_latency_ms', 'float'),
  ('public', 'model_metrics', 'avg_cost_usd', 'decimal'),
  ('public', 'model_metrics', 'date', 'date'),
  -- badges
  ('public', 'badges', 'id', 'uuid'),
  ('public', 'badges', 'name', 'string'),
  ('public', 'badges', 'description', 'text'),
  ('public', 'badges', 'category', 'string'),
  ('public', 'badges', 'rarity', 'string'),
  ('public', 'badges', 'icon_url', 'string'),
  ('public', 'badges', 'criteria', 'jsonb'),
  ('public', 'badges', 'xp_reward', 'integer'),
  ('public', 'badges', 'is_active', 'boolean'),
  ('public', 'badges', 'created_at', 'timestamp'),
  ('public', 'badges', 'updated_at', 'timestamp'),
  -- user_badges
  ('public', 'user_badges', 'id', 'uuid'),
  ('public', 'user_badges', 'user_id', 'uuid'),
  ('public', 'user_badges', 'badge_id', 'uuid'),
  ('public', 'user_badges', 'earned_at', 'timestamp'),
  ('public', 'user_badges', 'earning_context', 'jsonb'),
  ('public', 'user_badges', 'displayed', 'boolean'),
  ('public', 'user_badges', 'created_at', 'timestamp'),
  -- nfts
  ('public', 'nfts', 'id', 'uuid'),
  ('public', 'nfts', 'user_id', 'uuid'),
  ('public', 'nfts', 'badge_id', 'uuid'),
  ('public', 'nfts', 'asset_id', 'string'),
  ('public', 'nfts', 'blockchain', 'string'),
  ('public', 'nfts', 'transaction_id', 'string'),
  ('public', 'nfts', 'metadata_uri', 'string'),
  ('public', 'nfts', 'image_uri', 'string'),
  ('public', 'nfts', 'attributes', 'jsonb'),
  ('public', 'nfts', 'status', 'string'),
  ('public', 'nfts', 'minted_at', 'timestamp'),
  ('public', 'nfts', 'created_at', 'timestamp'),
  -- user_progress
  ('public', 'user_progress', 'id', 'uuid'),
  ('public', 'user_progress', 'user_id', 'uuid'),
  ('public', 'user_progress', 'total_xp', 'integer'),
  ('public', 'user_progress', 'level', 'integer'),
  ('public', 'user_progress', 'videos_created', 'integer'),
  ('public', 'user_progress', 'books_uploaded', 'integer'),
  ('public', 'user_progress', 'quizzes_completed', 'integer'),
  ('public', 'user_progress', 'total_spent_usd', 'decimal'),
  ('public', 'user_progress', 'achievements', 'jsonb'),
  ('public', 'user_progress', 'created_at', 'timestamp'),
  ('public', 'user_progress', 'updated_at', 'timestamp');

-- 2. Enumerated values: every "a|b|c" column comment of the ERD, as written (plus the value lists of
--    its CHECK constraints, which repeat these). Not listed: open lists ending in "etc"
--    (plot_overviews.story_type, character_archetypes.category) and model identifiers
--    (audio_generations.model_used, scene_videos.model_used).
create temp table erd_enum_values (table_name text, column_name text, value text, ord serial);
insert into erd_enum_values (table_name, column_name, value)
select l.table_name, l.column_name, v.value
from (values
  (1, 'profiles', 'user_mode', 'learning|creator|entertainment'),
  (2, 'user_roles', 'role_name', 'user|creator|superadmin|author'),
  (3, 'books', 'book_type', 'learning|entertainment'),
  (4, 'books', 'structure_type', 'linear|chapters|mixed'),
  (5, 'books', 'status', 'draft|processing|ready|failed'),
  (6, 'book_structure', 'extraction_method', 'ai|manual|toc'),
  (7, 'scripts', 'script_style', 'cinematic|narration|educational'),
  (8, 'scripts', 'status', 'draft|active|archived'),
  (9, 'scene_descriptions', 'time_of_day', 'morning|afternoon|night'),
  (10, 'plot_overviews', 'generation_method', 'openrouter|manual'),
  (11, 'plot_overviews', 'status', 'active|archived|deleted'),
  (12, 'characters', 'role', 'protagonist|antagonist|supporting|minor'),
  (13, 'characters', 'generation_method', 'openrouter|manual'),
  (14, 'chapter_scripts', 'status', 'active|archived|deleted'),
  (15, 'image_generations', 'image_type', 'character|scene'),
  (16, 'image_generations', 'status', 'pending|in_progress|completed|failed'),
  (17, 'audio_generations', 'audio_type', 'narration|dialogue|sound_effect|music'),
  (18, 'audio_generations', 'status', 'pending|in_progress|completed|failed'),
  (19, 'video_generations', 'status', 'pending|script|images|audio|video|lipsync|merge|completed|failed'),
  (20, 'video_generations', 'quality_tier', 'free|basic|standard|premium'),
  (21, 'scene_videos', 'status', 'pending|generating|completed|failed'),
  (22, 'lipsync_jobs', 'status', 'pending|processing|completed|failed'),
  (23, 'merge_jobs', 'merge_type', 'auto|manual'),
  (24, 'merge_jobs', 'status', 'pending|processing|completed|failed'),
  (25, 'merge_assets', 'asset_type', 'video|audio|image'),
  (26, 'user_subscriptions', 'tier', 'free|basic|standard|premium|professional|enterprise'),
  (27, 'user_subscriptions', 'status', 'active|canceled|past_due|trialing'),
  (28, 'subscription_history', 'change_reason', 'upgrade|downgrade|cancel|renewal'),
  (29, 'usage_logs', 'resource_type', 'script|image|audio|video|plot'),
  (30, 'badges', 'category', 'achievement|milestone|skill'),
  (31, 'badges', 'rarity', 'common|rare|epic|legendary'),
  (32, 'nfts', 'blockchain', 'algorand|polygon'),
  (33, 'nfts', 'status', 'pending|minted|failed')
) l(n, table_name, column_name, list)
cross join lateral unnest(string_to_array(l.list, '|')) with ordinality v(value, k)
order by l.n, v.k;

-- 3. Unique keys: every UK of the diagrams and the SQL UNIQUE constraints. Team interpretations:
--    characters.name is unique within its plot overview; model_metrics' two UKs are one pair;
--    plot_overviews.book_id means one ACTIVE overview per book (partial, predicate on status);
--    users.email lives in auth.users, where GoTrue keeps it unique only among accounts that do not
--    come from SSO (users_email_partial_key, where is_sso_user = false): deviation, SSO accounts may share one.
create temp table erd_unique_keys (table_schema text, table_name text, columns text[], partial boolean,
  predicate text, ord serial);
insert into erd_unique_keys (table_schema, table_name, columns, partial, predicate) values
  ('auth', 'users', array['email'], true, 'is_sso_user = false'),
  ('public', 'profiles', array['email'], false, null),
  ('public', 'email_verifications', array['token'], false, null),
  ('public', 'book_structure', array['book_id'], false, null),
  ('public', 'chapters', array['book_id', 'chapter_number'], false, null),
  ('public', 'chapter_embeddings', array['chapter_id'], false, null),
  ('public', 'plot_overviews', array['book_id'], true, 'status = ''active'''),
  ('public', 'characters', array['plot_overview_id', 'name'], false, null),
  ('public', 'character_archetypes', array['name'], false, null),
  ('public', 'lipsync_jobs', array['scene_video_id'], false, null),
  ('public', 'merge_jobs', array['video_generation_id'], false, null),
  ('public', 'user_subscriptions', array['user_id'], false, null),
  ('public', 'user_subscriptions', array['stripe_subscription_id'], false, null),
  ('public', 'model_metrics', array['model_name', 'date'], false, null),
  ('public', 'badges', array['name'], false, null),
  ('public', 'nfts', array['asset_id'], false, null),
  ('public', 'user_progress', array['user_id'], false, null);

-- 4. Named indexes: "Table Definitions" and "Performance Indexes", as the ERD writes them.
create temp table erd_indexes (index_name text, table_name text, columns text[], method text, partial boolean,
  served_by text, ord serial);
insert into erd_indexes (index_name, table_name, columns, method, partial) values
  ('idx_books_user_id', 'books', array['user_id'], 'btree', false),
  ('idx_books_status', 'books', array['status'], 'btree', false),
  ('idx_books_created_at', 'books', array['created_at'], 'btree', false),
  ('idx_chapters_book_id', 'chapters', array['book_id'], 'btree', false),
  ('idx_chapters_number', 'chapters', array['book_id', 'chapter_number'], 'btree', false),
  ('idx_profiles_email', 'profiles', array['email'], 'btree', false),
  ('idx_profiles_roles', 'profiles', array['roles'], 'gin', false),
  ('idx_books_user_type', 'books', array['user_id', 'book_type'], 'btree', false),
  ('idx_chapters_book_number', 'chapters', array['book_id', 'chapter_number'], 'btree', false),
  ('idx_scripts_chapter_user', 'scripts', array['chapter_id', 'user_id'], 'btree', false),
  ('idx_scripts_status', 'scripts', array['status'], 'btree', true),
  ('idx_scene_descriptions_script', 'scene_descriptions', array['script_id', 'scene_number'], 'btree', false),
  ('idx_plot_overviews_book_user', 'plot_overviews', array['book_id', 'user_id'], 'btree', false),
  ('idx_characters_plot', 'characters', array['plot_overview_id'], 'btree', false),
  ('idx_characters_archetypes', 'characters', array['archetypes'], 'gin', false),
  ('idx_image_gens_chapter', 'image_generations', array['chapter_id', 'image_type'], 'btree', false),
  ('idx_image_gens_status', 'image_generations', array['status'], 'btree', true),
  ('idx_audio_gens_chapter', 'audio_generations', array['chapter_id', 'audio_type'], 'btree', false),
  ('idx_video_gens_status', 'video_generations', array['status'], 'btree', true),
  ('idx_scene_videos_generation', 'scene_videos', array['video_generation_id', 'scene_number'], 'btree', false),
  ('idx_subscriptions_user', 'user_subscriptions', array['user_id'], 'btree', false),
  ('idx_subscriptions_stripe', 'user_subscriptions', array['stripe_subscription_id'], 'btree', false),
  ('idx_usage_logs_user_date', 'usage_logs', array['user_id', 'created_at'], 'btree', false),
  ('idx_usage_logs_resource', 'usage_logs', array['resource_type', 'created_at'], 'btree', false),
  ('idx_chapter_embeddings_vector', 'chapter_embeddings', array['embedding'], 'ivfflat', false);

-- Deviations from the ERD decided by the team. served_by: the index that stands in for the named
-- one (same table, same key columns); method: the access methods accepted instead ('a|b').
create temp table deviations (index_name text, served_by text, method text);
insert into deviations values
  -- Exact duplicate of the unique constraint unique_chapter_number (book_id, chapter_number),
  -- whose index serves every lookup this one would: a second copy only costs writes.
  ('idx_chapters_number', 'unique_chapter_number', null),
  -- Same duplicate of unique_chapter_number, named again in "Performance Indexes".
  ('idx_chapters_book_number', 'unique_chapter_number', null),
  -- HNSW instead of ivfflat: better recall and latency, and no training on existing rows
  -- (ivfflat's lists are built from the rows present when it is created).
  ('idx_chapter_embeddings_vector', null, 'hnsw|ivfflat');
update erd_indexes x set served_by = d.served_by, method = coalesce(d.method, x.method)
from deviations d where d.index_name = x.index_name;

-- 5. Named check and foreign-key constraints ("Indexes & Constraints"). The enum CHECKs
--    (valid_user_mode, valid_book_type, valid_status, check_book_type, check_subscription_tier,
--    check_image_type) are enforced by enum types here and covered by section 2.
--    on_delete: c cascade, r restrict, n set null (fk_books_user's referenced table is not checked:
--    ours is public.profiles, which itself cascades from auth.users).
create temp table erd_constraints (constraint_name text, table_name text, contype "char", columns text[],
  on_delete "char", ord serial);
insert into erd_constraints (constraint_name, table_name, contype, columns, on_delete) values
  ('check_progress', 'video_generations', 'c', array['progress_percentage'], null),
  ('check_positive_number', 'chapters', 'c', array['chapter_number'], null),
  ('fk_books_user', 'books', 'f', array['user_id'], 'c'),
  ('fk_chapters_book', 'chapters', 'f', array['book_id'], 'c'),
  ('fk_scripts_chapter', 'scripts', 'f', array['chapter_id'], 'c'),
  ('fk_video_gen_script', 'video_generations', 'f', array['script_id'], 'r'),
  ('fk_chapter_scripts_plot', 'chapter_scripts', 'f', array['plot_overview_id'], 'n');

-- 6. Row level security: every ERD table in public (auth.users is Supabase's).
create temp view erd_tables as
  select distinct table_name from erd_columns where table_schema = 'public';

select plan((select count(*)::integer from erd_columns)
  + (select count(*)::integer from erd_enum_values)
  + (select count(*)::integer from erd_unique_keys)
  + (select count(*)::integer from erd_indexes)
  + (select count(*)::integer from erd_constraints)
  + (select count(*)::integer from erd_tables));

-- What the database has ---------------------------------------------------------------------------

-- Columns with the family of their type (anything else shows its own type name).
create temp view db_columns as
  select c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text, c.udt_name::text,
    t.typtype = 'e' as is_enum, t.oid as type_oid,
    case
      when c.data_type in ('text', 'character varying') then 'string'
      when c.data_type = 'USER-DEFINED' and t.typtype = 'e' then 'string'
      when c.data_type in ('integer', 'bigint', 'smallint') then 'integer'
      when c.data_type = 'numeric' then 'decimal'
      when c.data_type in ('double precision', 'real') then 'float'
      when c.data_type in ('jsonb', 'boolean', 'date', 'uuid') then c.data_type
      when c.data_type = 'timestamp with time zone' then 'timestamp'
      when c.data_type = 'USER-DEFINED' and c.udt_name = 'vector' then 'vector'
      when c.data_type in ('USER-DEFINED', 'ARRAY') then c.data_type || ' ' || c.udt_name
      else c.data_type
    end::text as family
  from information_schema.columns c
  left join pg_namespace n on n.nspname = c.udt_schema
  left join pg_type t on t.typnamespace = n.oid and t.typname = c.udt_name;

-- Indexes with their key columns in order (an expression key shows as its text).
create temp view db_indexes as
  select n.nspname::text as table_schema, t.relname::text as table_name, ic.relname::text as index_name,
    am.amname::text as method, i.indisunique as is_unique, pg_get_expr(i.indpred, i.indrelid) as predicate,
    array(select coalesce(a.attname::text, pg_get_indexdef(i.indexrelid, k.n::integer, true))
          from unnest(i.indkey::int2[]) with ordinality k(attnum, n)
          left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0
          where k.n <= i.indnkeyatts order by k.n) as columns
  from pg_index i
  join pg_class ic on ic.oid = i.indexrelid
  join pg_class t on t.oid = i.indrelid
  join pg_namespace n on n.oid = t.relnamespace
  join pg_am am on am.oid = ic.relam;

create temp view db_constraints as
  select t.relname::text as table_name, k.conname::text as constraint_name, k.contype, k.confdeltype,
    array(select a.attname::text from unnest(k.conkey) with ordinality u(attnum, n)
          join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.n) as columns
  from pg_constraint k
  join pg_class t on t.oid = k.conrelid
  where t.relnamespace = 'public'::regnamespace;

-- 1. Columns --------------------------------------------------------------------------------------
select is(
  (select c.family from db_columns c
   where c.table_schema = e.table_schema and c.table_name = e.table_name and c.column_name = e.column_name),
  case e.family when 'text' then 'string' else e.family end,
  format('column %s.%s.%s exists as %s', e.table_schema, e.table_name, e.column_name, e.family))
from erd_columns e order by e.ord;

-- 2. Enumerated values ----------------------------------------------------------------------------
select is(
  (select case
            when not c.is_enum then format('%s is %s, not an enum', e.column_name, c.family)
            when exists (select 1 from pg_enum v where v.enumtypid = c.type_oid and v.enumlabel = e.value) then e.value
            else format('enum %s has no such label', c.udt_name)
          end
   from db_columns c
   where c.table_schema = 'public' and c.table_name = e.table_name and c.column_name = e.column_name),
  e.value,
  format('%s.%s accepts ''%s'' (enum label)', e.table_name, e.column_name, e.value))
from erd_enum_values e order by e.ord;

-- 3. Unique keys ----------------------------------------------------------------------------------
select ok(exists (
    select 1 from db_indexes i
    where i.table_schema = u.table_schema and i.table_name = u.table_name and i.is_unique
      and array(select unnest(i.columns) order by 1) = array(select unnest(u.columns) order by 1)
      and case when u.partial then i.predicate ~ u.predicate
               -- a full key, or one that only leaves out nulls (which never collide anyway)
               else i.predicate is null or i.predicate ~ '^\(\w+ IS NOT NULL\)$' end),
  format('unique key on %s.%s(%s)%s', u.table_schema, u.table_name, array_to_string(u.columns, ', '),
    case when u.partial then ' where ' || u.predicate else '' end))
from erd_unique_keys u order by u.ord;

-- 4. Named indexes --------------------------------------------------------------------------------
-- have/want read "<name> on <table> using <method> (<columns>)[ partial]".
select is(
  (select format('%s on %s using %s (%s)%s', i.index_name, i.table_name,
            case when i.method = any (string_to_array(x.method, '|')) then x.method else i.method end,
            array_to_string(i.columns, ', '), case when i.predicate is not null then ' partial' else '' end)
   from db_indexes i
   where i.table_schema = 'public' and i.table_name = x.table_name
     and i.index_name = coalesce(x.served_by, x.index_name)),
  format('%s on %s using %s (%s)%s', coalesce(x.served_by, x.index_name), x.table_name,
    case when x.served_by is null then x.method else 'btree' end,
    array_to_string(x.columns, ', '), case when x.partial then ' partial' else '' end),
  case when x.served_by is null
    then format('index %s on %s(%s) using %s%s', x.index_name, x.table_name, array_to_string(x.columns, ', '),
      x.method, case when x.partial then ', partial' else '' end)
    else format('index %s on %s(%s) is served by %s (deviation)', x.index_name, x.table_name,
      array_to_string(x.columns, ', '), x.served_by)
  end)
from erd_indexes x order by x.ord;

-- 5. Named constraints ----------------------------------------------------------------------------
-- have/want read "<check|foreign key> (<columns>)[ on delete <action>]".
create temp view delete_actions (code, action) as
  values ('a'::"char", 'no action'), ('r', 'restrict'), ('c', 'cascade'), ('n', 'set null'), ('d', 'set default');
select is(
  (select format('%s (%s)%s', case k.contype when 'c' then 'check' when 'f' then 'foreign key' else k.contype::text end,
            array_to_string(k.columns, ', '),
            case when k.contype = 'f' then ' on delete ' || (select action from delete_actions where code = k.confdeltype) else '' end)
   from db_constraints k where k.table_name = x.table_name and k.constraint_name = x.constraint_name),
  format('%s (%s)%s', case x.contype when 'c' then 'check' else 'foreign key' end, array_to_string(x.columns, ', '),
    case when x.contype = 'f' then ' on delete ' || (select action from delete_actions where code = x.on_delete) else '' end),
  format('constraint %s on %s(%s)%s', x.constraint_name, x.table_name, array_to_string(x.columns, ', '),
    case when x.contype = 'f' then ', on delete ' || (select action from delete_actions where code = x.on_delete) else '' end))
from erd_constraints x order by x.ord;

-- 6. Row level security ---------------------------------------------------------------------------
select is(
  (select c.relrowsecurity from pg_class c where c.relnamespace = 'public'::regnamespace and c.relname = t.table_name
     and c.relkind in ('r', 'p')),
  true,
  format('public.%s has row level security enabled', t.table_name))
from erd_tables t order by t.table_name;

select * from finish();
rollback;
