-- Tables clients watch for progress stream their changes through Realtime (RLS applies).
alter publication supabase_realtime add table
  public.books,
  public.video_generations,
  public.scene_videos,
  public.image_generations,
  public.audio_generations,
  public.lipsync_jobs,
  public.merge_jobs;
