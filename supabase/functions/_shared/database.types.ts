export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];

export type Database = {
  "public": {
    Tables: {
      "account_deletions": {
        Row: {
          "books": number;
          "chapters": number;
          "completed_at": string | null;
          "created_at": string;
          "file_bytes": number;
          "files": number;
          "generations": number;
          "generations_stopped": number;
          "id": string;
          "in_flight_reserved_usd": number;
          "late_calls": number;
          "late_cost_usd": number;
          "nfts": number;
          "queued_messages": number;
          "reason": Database["public"]["Enums"]["account_deletion_reason"];
          "requested_by": Database["public"]["Enums"]["account_deletion_requester"];
          "status": Database["public"]["Enums"]["account_deletion_status"];
          "updated_at": string;
          "usage_calls": number;
          "usage_cost_usd": number;
        };
        ComputedFields: never;
        Insert: {
          "books"?: number;
          "chapters"?: number;
          "completed_at"?: string | null;
          "created_at"?: string;
          "file_bytes"?: number;
          "files"?: number;
          "generations"?: number;
          "generations_stopped"?: number;
          "id"?: string;
          "in_flight_reserved_usd"?: number;
          "late_calls"?: number;
          "late_cost_usd"?: number;
          "nfts"?: number;
          "queued_messages"?: number;
          "reason": Database["public"]["Enums"]["account_deletion_reason"];
          "requested_by": Database["public"]["Enums"]["account_deletion_requester"];
          "status"?: Database["public"]["Enums"]["account_deletion_status"];
          "updated_at"?: string;
          "usage_calls"?: number;
          "usage_cost_usd"?: number;
        };
        Update: {
          "books"?: number;
          "chapters"?: number;
          "completed_at"?: string | null;
          "created_at"?: string;
          "file_bytes"?: number;
          "files"?: number;
          "generations"?: number;
          "generations_stopped"?: number;
          "id"?: string;
          "in_flight_reserved_usd"?: number;
          "late_calls"?: number;
          "late_cost_usd"?: number;
          "nfts"?: number;
          "queued_messages"?: number;
          "reason"?: Database["public"]["Enums"]["account_deletion_reason"];
          "requested_by"?: Database["public"]["Enums"]["account_deletion_requester"];
          "status"?: Database["public"]["Enums"]["account_deletion_status"];
          "updated_at"?: string;
          "usage_calls"?: number;
          "usage_cost_usd"?: number;
        };
        Relationships: [];
      };
      "audio_generations": {
        Row: {
          "attempts": number;
          "audio_type": Database["public"]["Enums"]["audio_type"];
          "audio_url": string | null;
          "chapter_id": string;
          "character_id": string | null;
          "completed_at": string | null;
          "cost_usd": number;
          "created_at": string;
          "duration_ms": number | null;
          "error_message": string | null;
          "id": string;
          "metadata": NonNullable<Json>;
          "model_used": string | null;
          "provider": string | null;
          "scene_description_id": string | null;
          "scene_number": number | null;
          "script_id": string | null;
          "sequence_order": number;
          "speaker": string | null;
          "started_at": string | null;
          "status": Database["public"]["Enums"]["media_job_status"];
          "storage_path": string | null;
          "text_content": string;
          "updated_at": string;
          "user_id": string;
          "video_generation_id": string | null;
          "voice_id": string | null;
          "voice_settings": NonNullable<Json>;
        };
        ComputedFields: never;
        Insert: {
          "attempts"?: number;
          "audio_type": Database["public"]["Enums"]["audio_type"];
          "audio_url"?: string | null;
          "chapter_id": string;
          "character_id"?: string | null;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "duration_ms"?: number | null;
          "error_message"?: string | null;
          "id"?: string;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "provider"?: string | null;
          "scene_description_id"?: string | null;
          "scene_number"?: number | null;
          "script_id"?: string | null;
          "sequence_order"?: number;
          "speaker"?: string | null;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["media_job_status"];
          "storage_path"?: string | null;
          "text_content": string;
          "updated_at"?: string;
          "user_id": string;
          "video_generation_id"?: string | null;
          "voice_id"?: string | null;
          "voice_settings"?: NonNullable<Json>;
        };
        Update: {
          "attempts"?: number;
          "audio_type"?: Database["public"]["Enums"]["audio_type"];
          "audio_url"?: string | null;
          "chapter_id"?: string;
          "character_id"?: string | null;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "duration_ms"?: number | null;
          "error_message"?: string | null;
          "id"?: string;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "provider"?: string | null;
          "scene_description_id"?: string | null;
          "scene_number"?: number | null;
          "script_id"?: string | null;
          "sequence_order"?: number;
          "speaker"?: string | null;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["media_job_status"];
          "storage_path"?: string | null;
          "text_content"?: string;
          "updated_at"?: string;
          "user_id"?: string;
          "video_generation_id"?: string | null;
          "voice_id"?: string | null;
          "voice_settings"?: NonNullable<Json>;
        };
        Relationships: [
          {
            foreignKeyName: "audio_generations_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audio_generations_character_id_fkey";
            columns: ["character_id"];
            isOneToOne: false;
            referencedRelation: "characters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audio_generations_scene_description_id_fkey";
            columns: ["scene_description_id"];
            isOneToOne: false;
            referencedRelation: "scene_descriptions";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audio_generations_script_id_fkey";
            columns: ["script_id"];
            isOneToOne: false;
            referencedRelation: "scripts";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audio_generations_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audio_generations_video_generation_id_fkey";
            columns: ["video_generation_id"];
            isOneToOne: false;
            referencedRelation: "video_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "audiobook_exports": {
        Row: {
          "attempts": number;
          "book_id": string;
          "chapter_id": string | null;
          "chapters": NonNullable<Json>;
          "completed_at": string | null;
          "completed_chapters": number;
          "cost_usd": number;
          "cover_path": string | null;
          "created_at": string;
          "duration_ms": number | null;
          "error_message": string | null;
          "file_url": string | null;
          "format": Database["public"]["Enums"]["audiobook_format"];
          "id": string;
          "progress_percentage": number;
          "quality_tier": Database["public"]["Enums"]["quality_tier"];
          "size_bytes": number | null;
          "source": Database["public"]["Enums"]["audiobook_source"];
          "speech_characters": number;
          "started_at": string | null;
          "status": Database["public"]["Enums"]["processing_status"];
          "storage_path": string | null;
          "total_chapters": number;
          "updated_at": string;
          "user_id": string;
          "voice_model": string;
        };
        ComputedFields: never;
        Insert: {
          "attempts"?: number;
          "book_id": string;
          "chapter_id"?: string | null;
          "chapters"?: NonNullable<Json>;
          "completed_at"?: string | null;
          "completed_chapters"?: number;
          "cost_usd"?: number;
          "cover_path"?: string | null;
          "created_at"?: string;
          "duration_ms"?: number | null;
          "error_message"?: string | null;
          "file_url"?: string | null;
          "format": Database["public"]["Enums"]["audiobook_format"];
          "id"?: string;
          "progress_percentage"?: number;
          "quality_tier": Database["public"]["Enums"]["quality_tier"];
          "size_bytes"?: number | null;
          "source": Database["public"]["Enums"]["audiobook_source"];
          "speech_characters"?: number;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["processing_status"];
          "storage_path"?: string | null;
          "total_chapters": number;
          "updated_at"?: string;
          "user_id": string;
          "voice_model": string;
        };
        Update: {
          "attempts"?: number;
          "book_id"?: string;
          "chapter_id"?: string | null;
          "chapters"?: NonNullable<Json>;
          "completed_at"?: string | null;
          "completed_chapters"?: number;
          "cost_usd"?: number;
          "cover_path"?: string | null;
          "created_at"?: string;
          "duration_ms"?: number | null;
          "error_message"?: string | null;
          "file_url"?: string | null;
          "format"?: Database["public"]["Enums"]["audiobook_format"];
          "id"?: string;
          "progress_percentage"?: number;
          "quality_tier"?: Database["public"]["Enums"]["quality_tier"];
          "size_bytes"?: number | null;
          "source"?: Database["public"]["Enums"]["audiobook_source"];
          "speech_characters"?: number;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["processing_status"];
          "storage_path"?: string | null;
          "total_chapters"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "voice_model"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "audiobook_exports_book_id_fkey";
            columns: ["book_id"];
            isOneToOne: false;
            referencedRelation: "books";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audiobook_exports_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "audiobook_exports_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "badges": {
        Row: {
          "category": Database["public"]["Enums"]["badge_category"];
          "created_at": string;
          "criteria": NonNullable<Json>;
          "description": string;
          "icon_url": string | null;
          "id": string;
          "is_active": boolean;
          "name": string;
          "rarity": Database["public"]["Enums"]["badge_rarity"];
          "updated_at": string;
          "xp_reward": number;
        };
        ComputedFields: never;
        Insert: {
          "category": Database["public"]["Enums"]["badge_category"];
          "created_at"?: string;
          "criteria": NonNullable<Json>;
          "description": string;
          "icon_url"?: string | null;
          "id"?: string;
          "is_active"?: boolean;
          "name": string;
          "rarity"?: Database["public"]["Enums"]["badge_rarity"];
          "updated_at"?: string;
          "xp_reward"?: number;
        };
        Update: {
          "category"?: Database["public"]["Enums"]["badge_category"];
          "created_at"?: string;
          "criteria"?: NonNullable<Json>;
          "description"?: string;
          "icon_url"?: string | null;
          "id"?: string;
          "is_active"?: boolean;
          "name"?: string;
          "rarity"?: Database["public"]["Enums"]["badge_rarity"];
          "updated_at"?: string;
          "xp_reward"?: number;
        };
        Relationships: [];
      };
      "book_structure": {
        Row: {
          "book_id": string;
          "confirmed_at": string | null;
          "created_at": string;
          "extraction_method": Database["public"]["Enums"]["extraction_method"];
          "id": string;
          "structure_data": NonNullable<Json>;
          "updated_at": string;
        };
        ComputedFields: never;
        Insert: {
          "book_id": string;
          "confirmed_at"?: string | null;
          "created_at"?: string;
          "extraction_method": Database["public"]["Enums"]["extraction_method"];
          "id"?: string;
          "structure_data"?: NonNullable<Json>;
          "updated_at"?: string;
        };
        Update: {
          "book_id"?: string;
          "confirmed_at"?: string | null;
          "created_at"?: string;
          "extraction_method"?: Database["public"]["Enums"]["extraction_method"];
          "id"?: string;
          "structure_data"?: NonNullable<Json>;
          "updated_at"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "book_structure_book_id_fkey";
            columns: ["book_id"];
            isOneToOne: true;
            referencedRelation: "books";
            referencedColumns: ["id"];
          },
        ];
      };
      "books": {
        Row: {
          "author": string | null;
          "book_type": Database["public"]["Enums"]["book_type"];
          "content_hash": string | null;
          "cover_url": string | null;
          "created_at": string;
          "description": string | null;
          "estimated_duration_minutes": number | null;
          "file_url": string | null;
          "genre": string | null;
          "id": string;
          "language": string;
          "metadata": NonNullable<Json>;
          "processing_completed_at": string | null;
          "processing_started_at": string | null;
          "progress_percentage": number;
          "source_file_size": number | null;
          "source_file_type": string | null;
          "status": Database["public"]["Enums"]["book_status"];
          "structure_type": Database["public"]["Enums"]["book_structure_type"];
          "title": string;
          "total_chapters": number;
          "updated_at": string;
          "user_id": string;
          "word_count": number;
        };
        ComputedFields: never;
        Insert: {
          "author"?: string | null;
          "book_type"?: Database["public"]["Enums"]["book_type"];
          "content_hash"?: string | null;
          "cover_url"?: string | null;
          "created_at"?: string;
          "description"?: string | null;
          "estimated_duration_minutes"?: number | null;
          "file_url"?: string | null;
          "genre"?: string | null;
          "id"?: string;
          "language"?: string;
          "metadata"?: NonNullable<Json>;
          "processing_completed_at"?: string | null;
          "processing_started_at"?: string | null;
          "progress_percentage"?: number;
          "source_file_size"?: number | null;
          "source_file_type"?: string | null;
          "status"?: Database["public"]["Enums"]["book_status"];
          "structure_type"?: Database["public"]["Enums"]["book_structure_type"];
          "title": string;
          "total_chapters"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "word_count"?: number;
        };
        Update: {
          "author"?: string | null;
          "book_type"?: Database["public"]["Enums"]["book_type"];
          "content_hash"?: string | null;
          "cover_url"?: string | null;
          "created_at"?: string;
          "description"?: string | null;
          "estimated_duration_minutes"?: number | null;
          "file_url"?: string | null;
          "genre"?: string | null;
          "id"?: string;
          "language"?: string;
          "metadata"?: NonNullable<Json>;
          "processing_completed_at"?: string | null;
          "processing_started_at"?: string | null;
          "progress_percentage"?: number;
          "source_file_size"?: number | null;
          "source_file_type"?: string | null;
          "status"?: Database["public"]["Enums"]["book_status"];
          "structure_type"?: Database["public"]["Enums"]["book_structure_type"];
          "title"?: string;
          "total_chapters"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "word_count"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "fk_books_user";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "chapter_embeddings": {
        Row: {
          "chapter_id": string;
          "content_hash": string;
          "created_at": string;
          "dimension": number;
          "embedding": string;
          "embedding_model": string;
          "id": string;
          "passage_count": number;
          "updated_at": string;
          "user_id": string;
        };
        ComputedFields: never;
        Insert: {
          "chapter_id": string;
          "content_hash": string;
          "created_at"?: string;
          "dimension"?: number;
          "embedding": string;
          "embedding_model": string;
          "id"?: string;
          "passage_count"?: number;
          "updated_at"?: string;
          "user_id": string;
        };
        Update: {
          "chapter_id"?: string;
          "content_hash"?: string;
          "created_at"?: string;
          "dimension"?: number;
          "embedding"?: string;
          "embedding_model"?: string;
          "id"?: string;
          "passage_count"?: number;
          "updated_at"?: string;
          "user_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "chapter_embeddings_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: true;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "chapter_embeddings_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "chapter_passages": {
        Row: {
          "chapter_id": string;
          "content": string;
          "content_hash": string;
          "created_at": string;
          "embedding": string;
          "embedding_half": unknown;
          "embedding_model": string;
          "id": string;
          "passage_index": number;
          "updated_at": string;
          "user_id": string;
        };
        ComputedFields: never;
        Insert: {
          "chapter_id": string;
          "content": string;
          "content_hash": string;
          "created_at"?: string;
          "embedding": string;
          "embedding_half"?: never;
          "embedding_model": string;
          "id"?: string;
          "passage_index": number;
          "updated_at"?: string;
          "user_id"?: string;
        };
        Update: {
          "chapter_id"?: string;
          "content"?: string;
          "content_hash"?: string;
          "created_at"?: string;
          "embedding"?: string;
          "embedding_half"?: never;
          "embedding_model"?: string;
          "id"?: string;
          "passage_index"?: number;
          "updated_at"?: string;
          "user_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "chapter_passages_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "chapter_passages_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "chapter_scripts": {
        Row: {
          "acts": NonNullable<Json>;
          "beats": NonNullable<Json>;
          "chapter_id": string;
          "character_arcs": NonNullable<Json>;
          "character_details": NonNullable<Json>;
          "character_enhanced": boolean;
          "created_at": string;
          "generation_metadata": NonNullable<Json>;
          "id": string;
          "plot_enhanced": boolean;
          "plot_overview_id": string | null;
          "scenes": NonNullable<Json>;
          "script_id": string;
          "status": Database["public"]["Enums"]["plot_status"];
          "updated_at": string;
          "user_id": string;
          "version": number;
        };
        ComputedFields: never;
        Insert: {
          "acts"?: NonNullable<Json>;
          "beats"?: NonNullable<Json>;
          "chapter_id": string;
          "character_arcs"?: NonNullable<Json>;
          "character_details"?: NonNullable<Json>;
          "character_enhanced"?: boolean;
          "created_at"?: string;
          "generation_metadata"?: NonNullable<Json>;
          "id"?: string;
          "plot_enhanced"?: boolean;
          "plot_overview_id"?: string | null;
          "scenes"?: NonNullable<Json>;
          "script_id": string;
          "status"?: Database["public"]["Enums"]["plot_status"];
          "updated_at"?: string;
          "user_id": string;
          "version"?: number;
        };
        Update: {
          "acts"?: NonNullable<Json>;
          "beats"?: NonNullable<Json>;
          "chapter_id"?: string;
          "character_arcs"?: NonNullable<Json>;
          "character_details"?: NonNullable<Json>;
          "character_enhanced"?: boolean;
          "created_at"?: string;
          "generation_metadata"?: NonNullable<Json>;
          "id"?: string;
          "plot_enhanced"?: boolean;
          "plot_overview_id"?: string | null;
          "scenes"?: NonNullable<Json>;
          "script_id"?: string;
          "status"?: Database["public"]["Enums"]["plot_status"];
          "updated_at"?: string;
          "user_id"?: string;
          "version"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "chapter_scripts_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "chapter_scripts_script_id_fkey";
            columns: ["script_id"];
            isOneToOne: true;
            referencedRelation: "scripts";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "chapter_scripts_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "fk_chapter_scripts_plot";
            columns: ["plot_overview_id"];
            isOneToOne: false;
            referencedRelation: "plot_overviews";
            referencedColumns: ["id"];
          },
        ];
      };
      "chapters": {
        Row: {
          "ai_content": NonNullable<Json>;
          "book_id": string;
          "chapter_number": number;
          "content": string;
          "created_at": string;
          "duration": number;
          "id": string;
          "part_title": string | null;
          "summary": string | null;
          "title": string;
          "updated_at": string;
          "word_count": number;
        };
        ComputedFields: never;
        Insert: {
          "ai_content"?: NonNullable<Json>;
          "book_id": string;
          "chapter_number": number;
          "content"?: string;
          "created_at"?: string;
          "duration"?: number;
          "id"?: string;
          "part_title"?: string | null;
          "summary"?: string | null;
          "title": string;
          "updated_at"?: string;
          "word_count"?: number;
        };
        Update: {
          "ai_content"?: NonNullable<Json>;
          "book_id"?: string;
          "chapter_number"?: number;
          "content"?: string;
          "created_at"?: string;
          "duration"?: number;
          "id"?: string;
          "part_title"?: string | null;
          "summary"?: string | null;
          "title"?: string;
          "updated_at"?: string;
          "word_count"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "fk_chapters_book";
            columns: ["book_id"];
            isOneToOne: false;
            referencedRelation: "books";
            referencedColumns: ["id"];
          },
        ];
      };
      "character_archetypes": {
        Row: {
          "category": Database["public"]["Enums"]["archetype_category"];
          "created_at": string;
          "description": string;
          "example_characters": string | null;
          "id": string;
          "is_active": boolean;
          "name": string;
          "tradition": string;
          "traits": NonNullable<Json>;
          "typical_roles": NonNullable<Json>;
          "updated_at": string;
        };
        ComputedFields: never;
        Insert: {
          "category": Database["public"]["Enums"]["archetype_category"];
          "created_at"?: string;
          "description": string;
          "example_characters"?: string | null;
          "id"?: string;
          "is_active"?: boolean;
          "name": string;
          "tradition": string;
          "traits"?: NonNullable<Json>;
          "typical_roles"?: NonNullable<Json>;
          "updated_at"?: string;
        };
        Update: {
          "category"?: Database["public"]["Enums"]["archetype_category"];
          "created_at"?: string;
          "description"?: string;
          "example_characters"?: string | null;
          "id"?: string;
          "is_active"?: boolean;
          "name"?: string;
          "tradition"?: string;
          "traits"?: NonNullable<Json>;
          "typical_roles"?: NonNullable<Json>;
          "updated_at"?: string;
        };
        Relationships: [];
      };
      "characters": {
        Row: {
          "archetypes": NonNullable<Json>;
          "book_id": string;
          "character_arc": string | null;
          "created_at": string;
          "generation_method": Database["public"]["Enums"]["generation_method"];
          "ghost": string | null;
          "id": string;
          "image_generation_prompt": string | null;
          "image_metadata": NonNullable<Json>;
          "image_url": string | null;
          "lie": string | null;
          "model_used": string | null;
          "name": string;
          "need": string | null;
          "personality": string | null;
          "physical_description": string | null;
          "plot_overview_id": string;
          "role": Database["public"]["Enums"]["character_role"];
          "updated_at": string;
          "user_edited": boolean;
          "user_id": string;
          "voice_id": string | null;
          "want": string | null;
        };
        ComputedFields: never;
        Insert: {
          "archetypes"?: NonNullable<Json>;
          "book_id": string;
          "character_arc"?: string | null;
          "created_at"?: string;
          "generation_method"?: Database["public"]["Enums"]["generation_method"];
          "ghost"?: string | null;
          "id"?: string;
          "image_generation_prompt"?: string | null;
          "image_metadata"?: NonNullable<Json>;
          "image_url"?: string | null;
          "lie"?: string | null;
          "model_used"?: string | null;
          "name": string;
          "need"?: string | null;
          "personality"?: string | null;
          "physical_description"?: string | null;
          "plot_overview_id": string;
          "role"?: Database["public"]["Enums"]["character_role"];
          "updated_at"?: string;
          "user_edited"?: boolean;
          "user_id": string;
          "voice_id"?: string | null;
          "want"?: string | null;
        };
        Update: {
          "archetypes"?: NonNullable<Json>;
          "book_id"?: string;
          "character_arc"?: string | null;
          "created_at"?: string;
          "generation_method"?: Database["public"]["Enums"]["generation_method"];
          "ghost"?: string | null;
          "id"?: string;
          "image_generation_prompt"?: string | null;
          "image_metadata"?: NonNullable<Json>;
          "image_url"?: string | null;
          "lie"?: string | null;
          "model_used"?: string | null;
          "name"?: string;
          "need"?: string | null;
          "personality"?: string | null;
          "physical_description"?: string | null;
          "plot_overview_id"?: string;
          "role"?: Database["public"]["Enums"]["character_role"];
          "updated_at"?: string;
          "user_edited"?: boolean;
          "user_id"?: string;
          "voice_id"?: string | null;
          "want"?: string | null;
        };
        Relationships: [
          {
            foreignKeyName: "characters_book_id_fkey";
            columns: ["book_id"];
            isOneToOne: false;
            referencedRelation: "books";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "characters_plot_overview_id_fkey";
            columns: ["plot_overview_id"];
            isOneToOne: false;
            referencedRelation: "plot_overviews";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "characters_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "cost_aggregations": {
        Row: {
          "breakdown": NonNullable<Json>;
          "created_at": string;
          "id": string;
          "period_end": string;
          "period_start": string;
          "request_count": number;
          "total_cost": number;
          "total_videos": number;
          "updated_at": string;
          "user_id": string;
        };
        ComputedFields: never;
        Insert: {
          "breakdown"?: NonNullable<Json>;
          "created_at"?: string;
          "id"?: string;
          "period_end": string;
          "period_start": string;
          "request_count"?: number;
          "total_cost"?: number;
          "total_videos"?: number;
          "updated_at"?: string;
          "user_id": string;
        };
        Update: {
          "breakdown"?: NonNullable<Json>;
          "created_at"?: string;
          "id"?: string;
          "period_end"?: string;
          "period_start"?: string;
          "request_count"?: number;
          "total_cost"?: number;
          "total_videos"?: number;
          "updated_at"?: string;
          "user_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "cost_aggregations_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "email_verifications": {
        Row: {
          "created_at": string;
          "email": string;
          "expires_at": string;
          "id": string;
          "token": string;
          "updated_at": string;
          "user_id": string;
          "verified": boolean | null;
          "verified_at": string | null;
        };
        ComputedFields: never;
        Insert: {
          "created_at"?: string;
          "email": string;
          "expires_at": string;
          "id"?: string;
          "token": string;
          "updated_at"?: string;
          "user_id": string;
          "verified"?: never;
          "verified_at"?: string | null;
        };
        Update: {
          "created_at"?: string;
          "email"?: string;
          "expires_at"?: string;
          "id"?: string;
          "token"?: string;
          "updated_at"?: string;
          "user_id"?: string;
          "verified"?: never;
          "verified_at"?: string | null;
        };
        Relationships: [
          {
            foreignKeyName: "email_verifications_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "image_generation_retries": {
        Row: {
          "attempt_number": number;
          "attempted_at": string;
          "cost_usd": number;
          "created_at": string;
          "error_message": string | null;
          "id": string;
          "image_generation_id": string;
          "model_used": string | null;
          "provider": string | null;
          "retryable": boolean;
          "status": Database["public"]["Enums"]["media_job_status"];
          "updated_at": string;
        };
        ComputedFields: never;
        Insert: {
          "attempt_number": number;
          "attempted_at"?: string;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "id"?: string;
          "image_generation_id": string;
          "model_used"?: string | null;
          "provider"?: string | null;
          "retryable"?: boolean;
          "status"?: Database["public"]["Enums"]["media_job_status"];
          "updated_at"?: string;
        };
        Update: {
          "attempt_number"?: number;
          "attempted_at"?: string;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "id"?: string;
          "image_generation_id"?: string;
          "model_used"?: string | null;
          "provider"?: string | null;
          "retryable"?: boolean;
          "status"?: Database["public"]["Enums"]["media_job_status"];
          "updated_at"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "image_generation_retries_image_generation_id_fkey";
            columns: ["image_generation_id"];
            isOneToOne: false;
            referencedRelation: "image_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "image_generations": {
        Row: {
          "chapter_id": string;
          "character_id": string | null;
          "character_name": string | null;
          "completed_at": string | null;
          "cost_usd": number;
          "created_at": string;
          "error_message": string | null;
          "generation_time_ms": number | null;
          "height": number | null;
          "id": string;
          "image_type": Database["public"]["Enums"]["image_type"];
          "image_url": string | null;
          "metadata": NonNullable<Json>;
          "model_used": string | null;
          "prompt": string;
          "provider": string | null;
          "retry_count": number;
          "scene_description_id": string | null;
          "scene_number": number | null;
          "script_id": string | null;
          "started_at": string | null;
          "status": Database["public"]["Enums"]["media_job_status"];
          "storage_path": string | null;
          "subject_key": string | null;
          "updated_at": string;
          "user_id": string;
          "video_generation_id": string | null;
          "width": number | null;
        };
        ComputedFields: never;
        Insert: {
          "chapter_id": string;
          "character_id"?: string | null;
          "character_name"?: string | null;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "generation_time_ms"?: number | null;
          "height"?: number | null;
          "id"?: string;
          "image_type": Database["public"]["Enums"]["image_type"];
          "image_url"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "prompt": string;
          "provider"?: string | null;
          "retry_count"?: number;
          "scene_description_id"?: string | null;
          "scene_number"?: number | null;
          "script_id"?: string | null;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["media_job_status"];
          "storage_path"?: string | null;
          "subject_key"?: never;
          "updated_at"?: string;
          "user_id": string;
          "video_generation_id"?: string | null;
          "width"?: number | null;
        };
        Update: {
          "chapter_id"?: string;
          "character_id"?: string | null;
          "character_name"?: string | null;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "generation_time_ms"?: number | null;
          "height"?: number | null;
          "id"?: string;
          "image_type"?: Database["public"]["Enums"]["image_type"];
          "image_url"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "prompt"?: string;
          "provider"?: string | null;
          "retry_count"?: number;
          "scene_description_id"?: string | null;
          "scene_number"?: number | null;
          "script_id"?: string | null;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["media_job_status"];
          "storage_path"?: string | null;
          "subject_key"?: never;
          "updated_at"?: string;
          "user_id"?: string;
          "video_generation_id"?: string | null;
          "width"?: number | null;
        };
        Relationships: [
          {
            foreignKeyName: "image_generations_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "image_generations_character_id_fkey";
            columns: ["character_id"];
            isOneToOne: false;
            referencedRelation: "characters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "image_generations_scene_description_id_fkey";
            columns: ["scene_description_id"];
            isOneToOne: false;
            referencedRelation: "scene_descriptions";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "image_generations_script_id_fkey";
            columns: ["script_id"];
            isOneToOne: false;
            referencedRelation: "scripts";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "image_generations_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "image_generations_video_generation_id_fkey";
            columns: ["video_generation_id"];
            isOneToOne: false;
            referencedRelation: "video_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "lipsync_jobs": {
        Row: {
          "attempts": number;
          "audio_generation_id": string | null;
          "completed_at": string | null;
          "cost_usd": number;
          "created_at": string;
          "error_message": string | null;
          "id": string;
          "input_audio_url": string | null;
          "input_video_url": string | null;
          "metadata": NonNullable<Json>;
          "model_used": string | null;
          "output_video_url": string | null;
          "provider": string | null;
          "scene_video_id": string;
          "started_at": string | null;
          "status": Database["public"]["Enums"]["processing_status"];
          "updated_at": string;
          "user_id": string;
          "video_generation_id": string;
        };
        ComputedFields: never;
        Insert: {
          "attempts"?: number;
          "audio_generation_id"?: string | null;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "id"?: string;
          "input_audio_url"?: string | null;
          "input_video_url"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "output_video_url"?: string | null;
          "provider"?: string | null;
          "scene_video_id": string;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["processing_status"];
          "updated_at"?: string;
          "user_id": string;
          "video_generation_id": string;
        };
        Update: {
          "attempts"?: number;
          "audio_generation_id"?: string | null;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "id"?: string;
          "input_audio_url"?: string | null;
          "input_video_url"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "output_video_url"?: string | null;
          "provider"?: string | null;
          "scene_video_id"?: string;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["processing_status"];
          "updated_at"?: string;
          "user_id"?: string;
          "video_generation_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "lipsync_jobs_audio_generation_id_fkey";
            columns: ["audio_generation_id"];
            isOneToOne: false;
            referencedRelation: "audio_generations";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "lipsync_jobs_scene_video_id_fkey";
            columns: ["scene_video_id"];
            isOneToOne: true;
            referencedRelation: "scene_videos";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "lipsync_jobs_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "lipsync_jobs_video_generation_id_fkey";
            columns: ["video_generation_id"];
            isOneToOne: false;
            referencedRelation: "video_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "merge_assets": {
        Row: {
          "asset_type": Database["public"]["Enums"]["merge_asset_type"];
          "asset_url": string;
          "created_at": string;
          "id": string;
          "merge_job_id": string;
          "scene_video_id": string | null;
          "sequence_order": number;
          "transform_params": NonNullable<Json>;
          "updated_at": string;
        };
        ComputedFields: never;
        Insert: {
          "asset_type": Database["public"]["Enums"]["merge_asset_type"];
          "asset_url": string;
          "created_at"?: string;
          "id"?: string;
          "merge_job_id": string;
          "scene_video_id"?: string | null;
          "sequence_order": number;
          "transform_params"?: NonNullable<Json>;
          "updated_at"?: string;
        };
        Update: {
          "asset_type"?: Database["public"]["Enums"]["merge_asset_type"];
          "asset_url"?: string;
          "created_at"?: string;
          "id"?: string;
          "merge_job_id"?: string;
          "scene_video_id"?: string | null;
          "sequence_order"?: number;
          "transform_params"?: NonNullable<Json>;
          "updated_at"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "merge_assets_merge_job_id_fkey";
            columns: ["merge_job_id"];
            isOneToOne: false;
            referencedRelation: "merge_jobs";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "merge_assets_scene_video_id_fkey";
            columns: ["scene_video_id"];
            isOneToOne: false;
            referencedRelation: "scene_videos";
            referencedColumns: ["id"];
          },
        ];
      };
      "merge_jobs": {
        Row: {
          "attempts": number;
          "completed_at": string | null;
          "cost_usd": number;
          "created_at": string;
          "error_message": string | null;
          "ffmpeg_params": NonNullable<Json>;
          "id": string;
          "input_videos": NonNullable<Json>;
          "merge_type": Database["public"]["Enums"]["merge_type"];
          "metadata": NonNullable<Json>;
          "output_duration_ms": number | null;
          "output_size_bytes": number | null;
          "output_video_url": string | null;
          "provider": string | null;
          "started_at": string | null;
          "status": Database["public"]["Enums"]["processing_status"];
          "storage_path": string | null;
          "updated_at": string;
          "user_id": string;
          "video_generation_id": string;
        };
        ComputedFields: never;
        Insert: {
          "attempts"?: number;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "ffmpeg_params"?: NonNullable<Json>;
          "id"?: string;
          "input_videos"?: NonNullable<Json>;
          "merge_type"?: Database["public"]["Enums"]["merge_type"];
          "metadata"?: NonNullable<Json>;
          "output_duration_ms"?: number | null;
          "output_size_bytes"?: number | null;
          "output_video_url"?: string | null;
          "provider"?: string | null;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["processing_status"];
          "storage_path"?: string | null;
          "updated_at"?: string;
          "user_id": string;
          "video_generation_id": string;
        };
        Update: {
          "attempts"?: number;
          "completed_at"?: string | null;
          "cost_usd"?: number;
          "created_at"?: string;
          "error_message"?: string | null;
          "ffmpeg_params"?: NonNullable<Json>;
          "id"?: string;
          "input_videos"?: NonNullable<Json>;
          "merge_type"?: Database["public"]["Enums"]["merge_type"];
          "metadata"?: NonNullable<Json>;
          "output_duration_ms"?: number | null;
          "output_size_bytes"?: number | null;
          "output_video_url"?: string | null;
          "provider"?: string | null;
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["processing_status"];
          "storage_path"?: string | null;
          "updated_at"?: string;
          "user_id"?: string;
          "video_generation_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "merge_jobs_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "merge_jobs_video_generation_id_fkey";
            columns: ["video_generation_id"];
            isOneToOne: true;
            referencedRelation: "video_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "model_metrics": {
        Row: {
          "avg_cost_usd": number | null;
          "avg_latency_ms": number | null;
          "created_at": string;
          "date": string;
          "failure_count": number;
          "id": string;
          "model_name": string;
          "provider": string;
          "request_count": number;
          "success_count": number;
          "total_cost_usd": number;
          "updated_at": string;
        };
        ComputedFields: never;
        Insert: {
          "avg_cost_usd"?: number | null;
          "avg_latency_ms"?: number | null;
          "created_at"?: string;
          "date": string;
          "failure_count"?: number;
          "id"?: string;
          "model_name": string;
          "provider": string;
          "request_count"?: number;
          "success_count"?: number;
          "total_cost_usd"?: number;
          "updated_at"?: string;
        };
        Update: {
          "avg_cost_usd"?: number | null;
          "avg_latency_ms"?: number | null;
          "created_at"?: string;
          "date"?: string;
          "failure_count"?: number;
          "id"?: string;
          "model_name"?: string;
          "provider"?: string;
          "request_count"?: number;
          "success_count"?: number;
          "total_cost_usd"?: number;
          "updated_at"?: string;
        };
        Relationships: [];
      };
      "nfts": {
        Row: {
          "asset_id": string | null;
          "attributes": NonNullable<Json>;
          "badge_id": string;
          "blockchain": Database["public"]["Enums"]["blockchain"];
          "contract_address": string | null;
          "created_at": string;
          "error_message": string | null;
          "id": string;
          "image_uri": string | null;
          "metadata_uri": string | null;
          "minted_at": string | null;
          "status": Database["public"]["Enums"]["nft_status"];
          "transaction_id": string | null;
          "updated_at": string;
          "user_id": string;
          "wallet_address": string | null;
        };
        ComputedFields: never;
        Insert: {
          "asset_id"?: string | null;
          "attributes"?: NonNullable<Json>;
          "badge_id": string;
          "blockchain": Database["public"]["Enums"]["blockchain"];
          "contract_address"?: string | null;
          "created_at"?: string;
          "error_message"?: string | null;
          "id"?: string;
          "image_uri"?: string | null;
          "metadata_uri"?: string | null;
          "minted_at"?: string | null;
          "status"?: Database["public"]["Enums"]["nft_status"];
          "transaction_id"?: string | null;
          "updated_at"?: string;
          "user_id": string;
          "wallet_address"?: string | null;
        };
        Update: {
          "asset_id"?: string | null;
          "attributes"?: NonNullable<Json>;
          "badge_id"?: string;
          "blockchain"?: Database["public"]["Enums"]["blockchain"];
          "contract_address"?: string | null;
          "created_at"?: string;
          "error_message"?: string | null;
          "id"?: string;
          "image_uri"?: string | null;
          "metadata_uri"?: string | null;
          "minted_at"?: string | null;
          "status"?: Database["public"]["Enums"]["nft_status"];
          "transaction_id"?: string | null;
          "updated_at"?: string;
          "user_id"?: string;
          "wallet_address"?: string | null;
        };
        Relationships: [
          {
            foreignKeyName: "nfts_badge_id_fkey";
            columns: ["badge_id"];
            isOneToOne: false;
            referencedRelation: "badges";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "nfts_user_badge_fkey";
            columns: ["user_id", "badge_id"];
            isOneToOne: false;
            referencedRelation: "user_badges";
            referencedColumns: ["user_id", "badge_id"];
          },
          {
            foreignKeyName: "nfts_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "operator_alert_settings": {
        Row: {
          "created_at": string;
          "description": string;
          "enabled": boolean;
          "id": string;
          "kind": Database["public"]["Enums"]["operator_alert_kind"];
          "min_events": number;
          "threshold": number;
          "updated_at": string;
          "updated_by": string | null;
          "window_minutes": number | null;
        };
        ComputedFields: never;
        Insert: {
          "created_at"?: string;
          "description": string;
          "enabled"?: boolean;
          "id"?: string;
          "kind": Database["public"]["Enums"]["operator_alert_kind"];
          "min_events"?: number;
          "threshold": number;
          "updated_at"?: string;
          "updated_by"?: string | null;
          "window_minutes"?: number | null;
        };
        Update: {
          "created_at"?: string;
          "description"?: string;
          "enabled"?: boolean;
          "id"?: string;
          "kind"?: Database["public"]["Enums"]["operator_alert_kind"];
          "min_events"?: number;
          "threshold"?: number;
          "updated_at"?: string;
          "updated_by"?: string | null;
          "window_minutes"?: number | null;
        };
        Relationships: [
          {
            foreignKeyName: "operator_alert_settings_updated_by_fkey";
            columns: ["updated_by"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "operator_alerts": {
        Row: {
          "acknowledged_at": string | null;
          "acknowledged_by": string | null;
          "created_at": string;
          "details": NonNullable<Json>;
          "first_seen_at": string;
          "id": string;
          "kind": Database["public"]["Enums"]["operator_alert_kind"];
          "last_seen_at": string;
          "message": string;
          "resolved_at": string | null;
          "status": Database["public"]["Enums"]["operator_alert_status"];
          "subject": string;
          "threshold": number;
          "updated_at": string;
          "user_id": string | null;
          "value": number | null;
        };
        ComputedFields: never;
        Insert: {
          "acknowledged_at"?: string | null;
          "acknowledged_by"?: string | null;
          "created_at"?: string;
          "details"?: NonNullable<Json>;
          "first_seen_at"?: string;
          "id"?: string;
          "kind": Database["public"]["Enums"]["operator_alert_kind"];
          "last_seen_at"?: string;
          "message": string;
          "resolved_at"?: string | null;
          "status"?: Database["public"]["Enums"]["operator_alert_status"];
          "subject": string;
          "threshold": number;
          "updated_at"?: string;
          "user_id"?: string | null;
          "value"?: number | null;
        };
        Update: {
          "acknowledged_at"?: string | null;
          "acknowledged_by"?: string | null;
          "created_at"?: string;
          "details"?: NonNullable<Json>;
          "first_seen_at"?: string;
          "id"?: string;
          "kind"?: Database["public"]["Enums"]["operator_alert_kind"];
          "last_seen_at"?: string;
          "message"?: string;
          "resolved_at"?: string | null;
          "status"?: Database["public"]["Enums"]["operator_alert_status"];
          "subject"?: string;
          "threshold"?: number;
          "updated_at"?: string;
          "user_id"?: string | null;
          "value"?: number | null;
        };
        Relationships: [
          {
            foreignKeyName: "operator_alerts_acknowledged_by_fkey";
            columns: ["acknowledged_by"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "operator_alerts_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "plot_overviews": {
        Row: {
          "audience": string | null;
          "book_id": string;
          "created_at": string;
          "generation_cost": number;
          "generation_method": Database["public"]["Enums"]["generation_method"];
          "genre": string | null;
          "id": string;
          "logline": string;
          "metadata": NonNullable<Json>;
          "model_used": string | null;
          "setting": string | null;
          "status": Database["public"]["Enums"]["plot_status"];
          "story_type": string | null;
          "themes": NonNullable<Json>;
          "tone": string | null;
          "updated_at": string;
          "user_edited": boolean;
          "user_id": string;
          "version": number;
        };
        ComputedFields: never;
        Insert: {
          "audience"?: string | null;
          "book_id": string;
          "created_at"?: string;
          "generation_cost"?: number;
          "generation_method"?: Database["public"]["Enums"]["generation_method"];
          "genre"?: string | null;
          "id"?: string;
          "logline": string;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "setting"?: string | null;
          "status"?: Database["public"]["Enums"]["plot_status"];
          "story_type"?: string | null;
          "themes"?: NonNullable<Json>;
          "tone"?: string | null;
          "updated_at"?: string;
          "user_edited"?: boolean;
          "user_id": string;
          "version"?: number;
        };
        Update: {
          "audience"?: string | null;
          "book_id"?: string;
          "created_at"?: string;
          "generation_cost"?: number;
          "generation_method"?: Database["public"]["Enums"]["generation_method"];
          "genre"?: string | null;
          "id"?: string;
          "logline"?: string;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "setting"?: string | null;
          "status"?: Database["public"]["Enums"]["plot_status"];
          "story_type"?: string | null;
          "themes"?: NonNullable<Json>;
          "tone"?: string | null;
          "updated_at"?: string;
          "user_edited"?: boolean;
          "user_id"?: string;
          "version"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "plot_overviews_book_id_fkey";
            columns: ["book_id"];
            isOneToOne: false;
            referencedRelation: "books";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "plot_overviews_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "profiles": {
        Row: {
          "avatar_url": string | null;
          "bio": string | null;
          "created_at": string;
          "display_name": string | null;
          "email": string | null;
          "id": string;
          "onboarding_complete": boolean;
          "roles": NonNullable<Json>;
          "updated_at": string;
          "user_mode": Database["public"]["Enums"]["user_mode"];
        };
        ComputedFields: never;
        Insert: {
          "avatar_url"?: string | null;
          "bio"?: string | null;
          "created_at"?: string;
          "display_name"?: string | null;
          "email"?: string | null;
          "id": string;
          "onboarding_complete"?: boolean;
          "roles"?: NonNullable<Json>;
          "updated_at"?: string;
          "user_mode"?: Database["public"]["Enums"]["user_mode"];
        };
        Update: {
          "avatar_url"?: string | null;
          "bio"?: string | null;
          "created_at"?: string;
          "display_name"?: string | null;
          "email"?: string | null;
          "id"?: string;
          "onboarding_complete"?: boolean;
          "roles"?: NonNullable<Json>;
          "updated_at"?: string;
          "user_mode"?: Database["public"]["Enums"]["user_mode"];
        };
        Relationships: [];
      };
      "quiz_attempts": {
        Row: {
          "answers": NonNullable<Json>;
          "chapter_id": string;
          "correct": number;
          "created_at": string;
          "id": string;
          "passed": boolean;
          "score": number;
          "total": number;
          "updated_at": string;
          "user_id": string;
          "xp_awarded": number;
        };
        ComputedFields: never;
        Insert: {
          "answers": NonNullable<Json>;
          "chapter_id": string;
          "correct": number;
          "created_at"?: string;
          "id"?: string;
          "passed": boolean;
          "score": number;
          "total": number;
          "updated_at"?: string;
          "user_id": string;
          "xp_awarded"?: number;
        };
        Update: {
          "answers"?: NonNullable<Json>;
          "chapter_id"?: string;
          "correct"?: number;
          "created_at"?: string;
          "id"?: string;
          "passed"?: boolean;
          "score"?: number;
          "total"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "xp_awarded"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "quiz_attempts_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "quiz_attempts_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "scene_descriptions": {
        Row: {
          "audio_requirements": string | null;
          "characters": NonNullable<Json>;
          "created_at": string;
          "dialogue": NonNullable<Json>;
          "estimated_duration_seconds": number | null;
          "id": string;
          "key_actions": string;
          "location": string;
          "narration": string | null;
          "scene_number": number;
          "script_id": string;
          "time_of_day": Database["public"]["Enums"]["time_of_day"];
          "updated_at": string;
          "visual_description": string;
        };
        ComputedFields: never;
        Insert: {
          "audio_requirements"?: string | null;
          "characters"?: NonNullable<Json>;
          "created_at"?: string;
          "dialogue"?: NonNullable<Json>;
          "estimated_duration_seconds"?: number | null;
          "id"?: string;
          "key_actions"?: string;
          "location"?: string;
          "narration"?: string | null;
          "scene_number": number;
          "script_id": string;
          "time_of_day"?: Database["public"]["Enums"]["time_of_day"];
          "updated_at"?: string;
          "visual_description": string;
        };
        Update: {
          "audio_requirements"?: string | null;
          "characters"?: NonNullable<Json>;
          "created_at"?: string;
          "dialogue"?: NonNullable<Json>;
          "estimated_duration_seconds"?: number | null;
          "id"?: string;
          "key_actions"?: string;
          "location"?: string;
          "narration"?: string | null;
          "scene_number"?: number;
          "script_id"?: string;
          "time_of_day"?: Database["public"]["Enums"]["time_of_day"];
          "updated_at"?: string;
          "visual_description"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "scene_descriptions_script_id_fkey";
            columns: ["script_id"];
            isOneToOne: false;
            referencedRelation: "scripts";
            referencedColumns: ["id"];
          },
        ];
      };
      "scene_videos": {
        Row: {
          "attempts": number;
          "cost_usd": number;
          "created_at": string;
          "duration_ms": number | null;
          "error_message": string | null;
          "generation_time_ms": number | null;
          "id": string;
          "image_generation_id": string | null;
          "lipsynced_video_url": string | null;
          "metadata": NonNullable<Json>;
          "model_used": string | null;
          "provider": string | null;
          "scene_description_id": string;
          "scene_number": number;
          "scene_video_url": string | null;
          "status": Database["public"]["Enums"]["scene_video_status"];
          "storage_path": string | null;
          "updated_at": string;
          "user_id": string;
          "video_generation_id": string;
        };
        ComputedFields: never;
        Insert: {
          "attempts"?: number;
          "cost_usd"?: number;
          "created_at"?: string;
          "duration_ms"?: number | null;
          "error_message"?: string | null;
          "generation_time_ms"?: number | null;
          "id"?: string;
          "image_generation_id"?: string | null;
          "lipsynced_video_url"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "provider"?: string | null;
          "scene_description_id": string;
          "scene_number": number;
          "scene_video_url"?: string | null;
          "status"?: Database["public"]["Enums"]["scene_video_status"];
          "storage_path"?: string | null;
          "updated_at"?: string;
          "user_id": string;
          "video_generation_id": string;
        };
        Update: {
          "attempts"?: number;
          "cost_usd"?: number;
          "created_at"?: string;
          "duration_ms"?: number | null;
          "error_message"?: string | null;
          "generation_time_ms"?: number | null;
          "id"?: string;
          "image_generation_id"?: string | null;
          "lipsynced_video_url"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "provider"?: string | null;
          "scene_description_id"?: string;
          "scene_number"?: number;
          "scene_video_url"?: string | null;
          "status"?: Database["public"]["Enums"]["scene_video_status"];
          "storage_path"?: string | null;
          "updated_at"?: string;
          "user_id"?: string;
          "video_generation_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "scene_videos_image_generation_id_fkey";
            columns: ["image_generation_id"];
            isOneToOne: false;
            referencedRelation: "image_generations";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "scene_videos_scene_description_id_fkey";
            columns: ["scene_description_id"];
            isOneToOne: false;
            referencedRelation: "scene_descriptions";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "scene_videos_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "scene_videos_video_generation_id_fkey";
            columns: ["video_generation_id"];
            isOneToOne: false;
            referencedRelation: "video_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "scripts": {
        Row: {
          "chapter_id": string;
          "character_details": string;
          "created_at": string;
          "id": string;
          "linked_script_id": string | null;
          "metadata": NonNullable<Json>;
          "model_used": string | null;
          "scene_count": number;
          "script": string;
          "script_style": Database["public"]["Enums"]["script_style"];
          "status": Database["public"]["Enums"]["script_status"];
          "story_type": string | null;
          "title": string;
          "updated_at": string;
          "user_id": string;
          "version": number;
        };
        ComputedFields: never;
        Insert: {
          "chapter_id": string;
          "character_details"?: string;
          "created_at"?: string;
          "id"?: string;
          "linked_script_id"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "scene_count"?: number;
          "script": string;
          "script_style": Database["public"]["Enums"]["script_style"];
          "status"?: Database["public"]["Enums"]["script_status"];
          "story_type"?: string | null;
          "title": string;
          "updated_at"?: string;
          "user_id": string;
          "version"?: number;
        };
        Update: {
          "chapter_id"?: string;
          "character_details"?: string;
          "created_at"?: string;
          "id"?: string;
          "linked_script_id"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string | null;
          "scene_count"?: number;
          "script"?: string;
          "script_style"?: Database["public"]["Enums"]["script_style"];
          "status"?: Database["public"]["Enums"]["script_status"];
          "story_type"?: string | null;
          "title"?: string;
          "updated_at"?: string;
          "user_id"?: string;
          "version"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "fk_scripts_chapter";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "scripts_linked_script_id_fkey";
            columns: ["linked_script_id"];
            isOneToOne: false;
            referencedRelation: "scripts";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "scripts_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "subscription_history": {
        Row: {
          "change_reason": Database["public"]["Enums"]["change_reason"];
          "created_at": string;
          "effective_date": string;
          "from_tier": Database["public"]["Enums"]["subscription_tier"] | null;
          "id": string;
          "metadata": NonNullable<Json>;
          "new_status": Database["public"]["Enums"]["subscription_status"];
          "previous_status": Database["public"]["Enums"]["subscription_status"] | null;
          "stripe_event_id": string | null;
          "subscription_id": string;
          "to_tier": Database["public"]["Enums"]["subscription_tier"];
          "updated_at": string;
          "user_id": string;
        };
        ComputedFields: never;
        Insert: {
          "change_reason": Database["public"]["Enums"]["change_reason"];
          "created_at"?: string;
          "effective_date"?: string;
          "from_tier"?: Database["public"]["Enums"]["subscription_tier"] | null;
          "id"?: string;
          "metadata"?: NonNullable<Json>;
          "new_status": Database["public"]["Enums"]["subscription_status"];
          "previous_status"?: Database["public"]["Enums"]["subscription_status"] | null;
          "stripe_event_id"?: string | null;
          "subscription_id": string;
          "to_tier": Database["public"]["Enums"]["subscription_tier"];
          "updated_at"?: string;
          "user_id": string;
        };
        Update: {
          "change_reason"?: Database["public"]["Enums"]["change_reason"];
          "created_at"?: string;
          "effective_date"?: string;
          "from_tier"?: Database["public"]["Enums"]["subscription_tier"] | null;
          "id"?: string;
          "metadata"?: NonNullable<Json>;
          "new_status"?: Database["public"]["Enums"]["subscription_status"];
          "previous_status"?: Database["public"]["Enums"]["subscription_status"] | null;
          "stripe_event_id"?: string | null;
          "subscription_id"?: string;
          "to_tier"?: Database["public"]["Enums"]["subscription_tier"];
          "updated_at"?: string;
          "user_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "subscription_history_subscription_id_fkey";
            columns: ["subscription_id"];
            isOneToOne: false;
            referencedRelation: "user_subscriptions";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "subscription_history_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "usage_logs": {
        Row: {
          "cost_usd": number;
          "created_at": string;
          "duration_seconds": number;
          "error_message": string | null;
          "id": string;
          "idempotency_key": string | null;
          "input_tokens": number;
          "job_id": string | null;
          "metadata": NonNullable<Json>;
          "model_used": string;
          "operation": string;
          "output_tokens": number;
          "provider": string;
          "resource_type": Database["public"]["Enums"]["resource_type"];
          "subscription_id": string | null;
          "success": boolean;
          "tier_at_time": Database["public"]["Enums"]["subscription_tier"];
          "units": number;
          "updated_at": string;
          "user_id": string;
          "video_generation_id": string | null;
        };
        ComputedFields: never;
        Insert: {
          "cost_usd"?: number;
          "created_at"?: string;
          "duration_seconds"?: number;
          "error_message"?: string | null;
          "id"?: string;
          "idempotency_key"?: string | null;
          "input_tokens"?: number;
          "job_id"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used": string;
          "operation": string;
          "output_tokens"?: number;
          "provider": string;
          "resource_type": Database["public"]["Enums"]["resource_type"];
          "subscription_id"?: string | null;
          "success"?: boolean;
          "tier_at_time": Database["public"]["Enums"]["subscription_tier"];
          "units"?: number;
          "updated_at"?: string;
          "user_id": string;
          "video_generation_id"?: string | null;
        };
        Update: {
          "cost_usd"?: number;
          "created_at"?: string;
          "duration_seconds"?: number;
          "error_message"?: string | null;
          "id"?: string;
          "idempotency_key"?: string | null;
          "input_tokens"?: number;
          "job_id"?: string | null;
          "metadata"?: NonNullable<Json>;
          "model_used"?: string;
          "operation"?: string;
          "output_tokens"?: number;
          "provider"?: string;
          "resource_type"?: Database["public"]["Enums"]["resource_type"];
          "subscription_id"?: string | null;
          "success"?: boolean;
          "tier_at_time"?: Database["public"]["Enums"]["subscription_tier"];
          "units"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "video_generation_id"?: string | null;
        };
        Relationships: [
          {
            foreignKeyName: "usage_logs_subscription_id_fkey";
            columns: ["subscription_id"];
            isOneToOne: false;
            referencedRelation: "user_subscriptions";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "usage_logs_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "usage_logs_video_generation_id_fkey";
            columns: ["video_generation_id"];
            isOneToOne: false;
            referencedRelation: "video_generations";
            referencedColumns: ["id"];
          },
        ];
      };
      "user_badges": {
        Row: {
          "badge_id": string;
          "created_at": string;
          "displayed": boolean;
          "earned_at": string;
          "earning_context": NonNullable<Json>;
          "id": string;
          "updated_at": string;
          "user_id": string;
        };
        ComputedFields: never;
        Insert: {
          "badge_id": string;
          "created_at"?: string;
          "displayed"?: boolean;
          "earned_at"?: string;
          "earning_context"?: NonNullable<Json>;
          "id"?: string;
          "updated_at"?: string;
          "user_id": string;
        };
        Update: {
          "badge_id"?: string;
          "created_at"?: string;
          "displayed"?: boolean;
          "earned_at"?: string;
          "earning_context"?: NonNullable<Json>;
          "id"?: string;
          "updated_at"?: string;
          "user_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "user_badges_badge_id_fkey";
            columns: ["badge_id"];
            isOneToOne: false;
            referencedRelation: "badges";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "user_badges_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "user_progress": {
        Row: {
          "achievements": NonNullable<Json>;
          "books_uploaded": number;
          "created_at": string;
          "id": string;
          "last_activity_at": string | null;
          "level": number;
          "quizzes_completed": number;
          "total_spent_usd": number;
          "total_xp": number;
          "updated_at": string;
          "user_id": string;
          "videos_created": number;
        };
        ComputedFields: never;
        Insert: {
          "achievements"?: NonNullable<Json>;
          "books_uploaded"?: number;
          "created_at"?: string;
          "id"?: string;
          "last_activity_at"?: string | null;
          "level"?: number;
          "quizzes_completed"?: number;
          "total_spent_usd"?: number;
          "total_xp"?: number;
          "updated_at"?: string;
          "user_id": string;
          "videos_created"?: number;
        };
        Update: {
          "achievements"?: NonNullable<Json>;
          "books_uploaded"?: number;
          "created_at"?: string;
          "id"?: string;
          "last_activity_at"?: string | null;
          "level"?: number;
          "quizzes_completed"?: number;
          "total_spent_usd"?: number;
          "total_xp"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "videos_created"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "user_progress_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: true;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "user_roles": {
        Row: {
          "created_at": string;
          "granted_at": string;
          "granted_by": string | null;
          "id": string;
          "role_name": Database["public"]["Enums"]["app_role"];
          "updated_at": string;
          "user_id": string;
        };
        ComputedFields: never;
        Insert: {
          "created_at"?: string;
          "granted_at"?: string;
          "granted_by"?: string | null;
          "id"?: string;
          "role_name": Database["public"]["Enums"]["app_role"];
          "updated_at"?: string;
          "user_id": string;
        };
        Update: {
          "created_at"?: string;
          "granted_at"?: string;
          "granted_by"?: string | null;
          "id"?: string;
          "role_name"?: Database["public"]["Enums"]["app_role"];
          "updated_at"?: string;
          "user_id"?: string;
        };
        Relationships: [
          {
            foreignKeyName: "user_roles_granted_by_fkey";
            columns: ["granted_by"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "user_roles_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "user_subscriptions": {
        Row: {
          "cancel_at_period_end": boolean;
          "created_at": string;
          "current_period_end": string;
          "current_period_start": string;
          "id": string;
          "last_synced_at": string | null;
          "status": Database["public"]["Enums"]["subscription_status"];
          "stripe_customer_id": string | null;
          "stripe_price_id": string | null;
          "stripe_subscription_id": string | null;
          "tier": Database["public"]["Enums"]["subscription_tier"];
          "trial_end": string | null;
          "updated_at": string;
          "user_id": string;
          "video_count_limit": number;
          "video_count_used": number;
        };
        ComputedFields: never;
        Insert: {
          "cancel_at_period_end"?: boolean;
          "created_at"?: string;
          "current_period_end"?: string;
          "current_period_start"?: string;
          "id"?: string;
          "last_synced_at"?: string | null;
          "status"?: Database["public"]["Enums"]["subscription_status"];
          "stripe_customer_id"?: string | null;
          "stripe_price_id"?: string | null;
          "stripe_subscription_id"?: string | null;
          "tier"?: Database["public"]["Enums"]["subscription_tier"];
          "trial_end"?: string | null;
          "updated_at"?: string;
          "user_id": string;
          "video_count_limit"?: number;
          "video_count_used"?: number;
        };
        Update: {
          "cancel_at_period_end"?: boolean;
          "created_at"?: string;
          "current_period_end"?: string;
          "current_period_start"?: string;
          "id"?: string;
          "last_synced_at"?: string | null;
          "status"?: Database["public"]["Enums"]["subscription_status"];
          "stripe_customer_id"?: string | null;
          "stripe_price_id"?: string | null;
          "stripe_subscription_id"?: string | null;
          "tier"?: Database["public"]["Enums"]["subscription_tier"];
          "trial_end"?: string | null;
          "updated_at"?: string;
          "user_id"?: string;
          "video_count_limit"?: number;
          "video_count_used"?: number;
        };
        Relationships: [
          {
            foreignKeyName: "user_subscriptions_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: true;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
      "video_generations": {
        Row: {
          "chapter_id": string;
          "completed_at": string | null;
          "completed_scenes": number;
          "created_at": string;
          "current_step": Database["public"]["Enums"]["pipeline_step"] | null;
          "error_message": string | null;
          "id": string;
          "last_completed_step": Database["public"]["Enums"]["pipeline_step"] | null;
          "pipeline_metadata": NonNullable<Json>;
          "progress_percentage": number;
          "quality_tier": Database["public"]["Enums"]["quality_tier"];
          "script_id": string | null;
          "script_style": Database["public"]["Enums"]["script_style"];
          "started_at": string | null;
          "status": Database["public"]["Enums"]["generation_status"];
          "total_cost_usd": number;
          "total_scenes": number;
          "updated_at": string;
          "user_id": string;
          "video_url": string | null;
        };
        ComputedFields: never;
        Insert: {
          "chapter_id": string;
          "completed_at"?: string | null;
          "completed_scenes"?: number;
          "created_at"?: string;
          "current_step"?: Database["public"]["Enums"]["pipeline_step"] | null;
          "error_message"?: string | null;
          "id"?: string;
          "last_completed_step"?: Database["public"]["Enums"]["pipeline_step"] | null;
          "pipeline_metadata"?: NonNullable<Json>;
          "progress_percentage"?: number;
          "quality_tier"?: Database["public"]["Enums"]["quality_tier"];
          "script_id"?: string | null;
          "script_style": Database["public"]["Enums"]["script_style"];
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["generation_status"];
          "total_cost_usd"?: number;
          "total_scenes"?: number;
          "updated_at"?: string;
          "user_id": string;
          "video_url"?: string | null;
        };
        Update: {
          "chapter_id"?: string;
          "completed_at"?: string | null;
          "completed_scenes"?: number;
          "created_at"?: string;
          "current_step"?: Database["public"]["Enums"]["pipeline_step"] | null;
          "error_message"?: string | null;
          "id"?: string;
          "last_completed_step"?: Database["public"]["Enums"]["pipeline_step"] | null;
          "pipeline_metadata"?: NonNullable<Json>;
          "progress_percentage"?: number;
          "quality_tier"?: Database["public"]["Enums"]["quality_tier"];
          "script_id"?: string | null;
          "script_style"?: Database["public"]["Enums"]["script_style"];
          "started_at"?: string | null;
          "status"?: Database["public"]["Enums"]["generation_status"];
          "total_cost_usd"?: number;
          "total_scenes"?: number;
          "updated_at"?: string;
          "user_id"?: string;
          "video_url"?: string | null;
        };
        Relationships: [
          {
            foreignKeyName: "fk_video_gen_script";
            columns: ["script_id"];
            isOneToOne: false;
            referencedRelation: "scripts";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "video_generations_chapter_id_fkey";
            columns: ["chapter_id"];
            isOneToOne: false;
            referencedRelation: "chapters";
            referencedColumns: ["id"];
          },
          {
            foreignKeyName: "video_generations_user_id_fkey";
            columns: ["user_id"];
            isOneToOne: false;
            referencedRelation: "profiles";
            referencedColumns: ["id"];
          },
        ];
      };
    };
    Views: {
      [_ in never]: never;
    };
    Functions: {
      "account_deletion_preview": {
        Args: { "target_user"?: string };
        Returns: {
          "books": number;
          "chapters": number;
          "deletion_id": string;
          "file_bytes": number;
          "files": number;
          "generations": number;
          "generations_running": number;
          "nfts": number;
          "subscription_renews": boolean;
          "usage_calls": number;
          "usage_cost_usd": number;
          "user_id": string;
        }[];
      };
      "acknowledge_operator_alert": {
        Args: { "alert_id": string };
        Returns: {
          "acknowledged_at": string | null;
          "acknowledged_by": string | null;
          "created_at": string;
          "details": NonNullable<Json>;
          "first_seen_at": string;
          "id": string;
          "kind": Database["public"]["Enums"]["operator_alert_kind"];
          "last_seen_at": string;
          "message": string;
          "resolved_at": string | null;
          "status": Database["public"]["Enums"]["operator_alert_status"];
          "subject": string;
          "threshold": number;
          "updated_at": string;
          "user_id": string | null;
          "value": number | null;
        };
        SetofOptions: {
          from: "*";
          to: "operator_alerts";
          isOneToOne: true;
          isSetofReturn: false;
        };
      };
      "cancel_video_generation": { Args: { "generation_id": string }; Returns: string };
      "confirm_book_structure": { Args: { "book_id": string; "structure": Json }; Returns: number };
      "delete_account": {
        Args: { "reason"?: Database["public"]["Enums"]["account_deletion_reason"]; "target_user"?: string };
        Returns: {
          "books": number;
          "chapters": number;
          "completed_at": string | null;
          "created_at": string;
          "file_bytes": number;
          "files": number;
          "generations": number;
          "generations_stopped": number;
          "id": string;
          "in_flight_reserved_usd": number;
          "late_calls": number;
          "late_cost_usd": number;
          "nfts": number;
          "queued_messages": number;
          "reason": Database["public"]["Enums"]["account_deletion_reason"];
          "requested_by": Database["public"]["Enums"]["account_deletion_requester"];
          "status": Database["public"]["Enums"]["account_deletion_status"];
          "updated_at": string;
          "usage_calls": number;
          "usage_cost_usd": number;
        };
        SetofOptions: {
          from: "*";
          to: "account_deletions";
          isOneToOne: true;
          isSetofReturn: false;
        };
      };
      "estimate_video_generation": {
        Args: {
          "chapter_id": string;
          "quality_tier"?: Database["public"]["Enums"]["quality_tier"];
          "script_style"?: Database["public"]["Enums"]["script_style"];
        };
        Returns: {
          "expected_usd": number;
          "max_generation_usd": number;
          "note": string;
          "period_budget_usd": number;
          "period_spent_usd": number;
          "scenes": number;
          "speech_characters": number;
          "video_seconds": number;
          "within_ceilings": boolean;
          "worst_case_usd": number;
        }[];
      };
      "generate_plot_overview": { Args: { "book_id": string }; Returns: number };
      "generation_ceilings": {
        Args: Record<PropertyKey, never>;
        Returns: {
          "frame_height": number;
          "frame_width": number;
          "max_generation_usd": number;
          "max_period_usd": number;
          "max_scenes": number;
          "max_speech_characters": number;
          "max_video_seconds": number;
          "models": Json;
          "quality_tier": Database["public"]["Enums"]["quality_tier"];
          "worst_case_usd": number;
        }[];
      };
      "grant_role": {
        Args: { "granted": Database["public"]["Enums"]["app_role"]; "target_user": string };
        Returns: undefined;
      };
      "match_chapters": {
        Args: { "book_id"?: string; "match_count"?: number; "query_embedding": string };
        Returns: {
          "book_title": string;
          "chapter_id": string;
          "chapter_number": number;
          "similarity": number;
          "title": string;
        }[];
      };
      "process_book": { Args: { "book_id": string }; Returns: string };
      "request_badge_nft": {
        Args: {
          "badge_id": string;
          "blockchain": Database["public"]["Enums"]["blockchain"];
          "wallet_address"?: string;
        };
        Returns: string;
      };
      "retry_video_generation": { Args: { "generation_id": string }; Returns: string };
      "revoke_role": {
        Args: { "revoked": Database["public"]["Enums"]["app_role"]; "target_user": string };
        Returns: undefined;
      };
      "start_audiobook_export": {
        Args: {
          "book_id": string;
          "chapter_id"?: string;
          "format"?: Database["public"]["Enums"]["audiobook_format"];
          "quality_tier"?: Database["public"]["Enums"]["quality_tier"];
          "source"?: Database["public"]["Enums"]["audiobook_source"];
        };
        Returns: string;
      };
      "start_video_generation": {
        Args: {
          "chapter_id": string;
          "quality_tier"?: Database["public"]["Enums"]["quality_tier"];
          "script_style"?: Database["public"]["Enums"]["script_style"];
        };
        Returns: string;
      };
      "submit_quiz": { Args: { "answers": Json; "chapter_id": string }; Returns: Json };
      "subscription_tiers": {
        Args: Record<PropertyKey, never>;
        Returns: {
          "max_resolution": string;
          "monthly_price_usd": number;
          "quality_tier": Database["public"]["Enums"]["quality_tier"];
          "stripe_lookup_key": string;
          "tier": Database["public"]["Enums"]["subscription_tier"];
          "video_count_limit": number;
        }[];
      };
      "verify_email": { Args: { "token": string }; Returns: boolean };
    };
    Enums: {
      "account_deletion_reason":
        | "user_request"
        | "terms_violation"
        | "legal_request"
        | "inactivity"
        | "other";
      "account_deletion_requester": "user" | "superadmin" | "operator";
      "account_deletion_status": "in_progress" | "completed";
      "app_role": "user" | "creator" | "author" | "admin" | "superadmin";
      "archetype_category":
        | "hero"
        | "mentor"
        | "ally"
        | "herald"
        | "trickster"
        | "shapeshifter"
        | "threshold_guardian"
        | "shadow";
      "audio_type": "narration" | "dialogue" | "music" | "sound_effect";
      "audiobook_format": "m4b" | "mp3";
      "audiobook_source": "auto" | "generation" | "narration";
      "badge_category": "achievement" | "milestone" | "skill";
      "badge_rarity": "common" | "uncommon" | "rare" | "epic" | "legendary";
      "blockchain": "algorand" | "polygon";
      "book_status": "draft" | "processing" | "ready" | "failed";
      "book_structure_type": "linear" | "chapters" | "mixed";
      "book_type": "learning" | "entertainment";
      "change_reason": "upgrade" | "downgrade" | "cancel" | "renewal" | "payment_failed" | "reactivation";
      "character_role":
        | "protagonist"
        | "antagonist"
        | "supporting"
        | "minor"
        | "deuteragonist"
        | "mentor"
        | "love_interest"
        | "sidekick";
      "extraction_method": "ai" | "manual" | "toc";
      "generation_method": "openrouter" | "manual" | "openai" | "offline";
      "generation_status":
        | "pending"
        | "script"
        | "images"
        | "audio"
        | "video"
        | "lipsync"
        | "merge"
        | "completed"
        | "failed"
        | "canceled";
      "image_type": "scene" | "character" | "cover";
      "media_job_status": "pending" | "in_progress" | "completed" | "failed";
      "merge_asset_type": "video" | "audio" | "image" | "subtitle";
      "merge_type": "auto" | "manual";
      "nft_status": "pending" | "minting" | "minted" | "failed";
      "operator_alert_kind":
        | "stage_failure_rate"
        | "model_failure_rate"
        | "provider_errors"
        | "user_daily_cost"
        | "system_daily_cost"
        | "queue_backlog"
        | "worker_silent"
        | "abandoned_reservations";
      "operator_alert_status": "open" | "resolved";
      "pipeline_step": "script" | "images" | "audio" | "video" | "lipsync" | "merge";
      "plot_status": "active" | "archived" | "deleted";
      "processing_status": "pending" | "processing" | "completed" | "failed";
      "quality_tier": "free" | "basic" | "standard" | "premium" | "professional";
      "resource_type":
        | "script"
        | "image"
        | "audio"
        | "video"
        | "plot"
        | "embedding"
        | "lipsync"
        | "merge"
        | "content";
      "scene_video_status": "pending" | "generating" | "completed" | "failed";
      "script_status": "draft" | "active" | "archived";
      "script_style": "cinematic" | "narration" | "educational";
      "subscription_status": "active" | "trialing" | "past_due" | "canceled" | "incomplete" | "unpaid";
      "subscription_tier": "free" | "basic" | "standard" | "premium" | "professional" | "enterprise";
      "time_of_day": "dawn" | "morning" | "noon" | "afternoon" | "evening" | "night" | "unspecified";
      "user_mode": "learning" | "creator" | "entertainment";
    };
    CompositeTypes: {
      [_ in never]: never;
    };
  };
};

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">;

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">];

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
  } ? keyof (
      & DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
      & DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"]
    )
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals } ? (
    & DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    & DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"]
  )[TableName] extends {
    Row: infer R;
  } ? R
  : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R;
    } ? R
    : never
  : never;

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
  } ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
    Insert: infer I;
  } ? I
  : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I;
    } ? I
    : never
  : never;

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
  } ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
    Update: infer U;
  } ? U
  : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U;
    } ? U
    : never
  : never;

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
  } ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never,
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never;

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
  } ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never,
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never;

export const Constants = {
  "public": {
    Enums: {
      "account_deletion_reason": ["user_request", "terms_violation", "legal_request", "inactivity", "other"],
      "account_deletion_requester": ["user", "superadmin", "operator"],
      "account_deletion_status": ["in_progress", "completed"],
      "app_role": ["user", "creator", "author", "admin", "superadmin"],
      "archetype_category": [
        "hero",
        "mentor",
        "ally",
        "herald",
        "trickster",
        "shapeshifter",
        "threshold_guardian",
        "shadow",
      ],
      "audio_type": ["narration", "dialogue", "music", "sound_effect"],
      "audiobook_format": ["m4b", "mp3"],
      "audiobook_source": ["auto", "generation", "narration"],
      "badge_category": ["achievement", "milestone", "skill"],
      "badge_rarity": ["common", "uncommon", "rare", "epic", "legendary"],
      "blockchain": ["algorand", "polygon"],
      "book_status": ["draft", "processing", "ready", "failed"],
      "book_structure_type": ["linear", "chapters", "mixed"],
      "book_type": ["learning", "entertainment"],
      "change_reason": ["upgrade", "downgrade", "cancel", "renewal", "payment_failed", "reactivation"],
      "character_role": [
        "protagonist",
        "antagonist",
        "supporting",
        "minor",
        "deuteragonist",
        "mentor",
        "love_interest",
        "sidekick",
      ],
      "extraction_method": ["ai", "manual", "toc"],
      "generation_method": ["openrouter", "manual", "openai", "offline"],
      "generation_status": [
        "pending",
        "script",
        "images",
        "audio",
        "video",
        "lipsync",
        "merge",
        "completed",
        "failed",
        "canceled",
      ],
      "image_type": ["scene", "character", "cover"],
      "media_job_status": ["pending", "in_progress", "completed", "failed"],
      "merge_asset_type": ["video", "audio", "image", "subtitle"],
      "merge_type": ["auto", "manual"],
      "nft_status": ["pending", "minting", "minted", "failed"],
      "operator_alert_kind": [
        "stage_failure_rate",
        "model_failure_rate",
        "provider_errors",
        "user_daily_cost",
        "system_daily_cost",
        "queue_backlog",
        "worker_silent",
        "abandoned_reservations",
      ],
      "operator_alert_status": ["open", "resolved"],
      "pipeline_step": ["script", "images", "audio", "video", "lipsync", "merge"],
      "plot_status": ["active", "archived", "deleted"],
      "processing_status": ["pending", "processing", "completed", "failed"],
      "quality_tier": ["free", "basic", "standard", "premium", "professional"],
      "resource_type": [
        "script",
        "image",
        "audio",
        "video",
        "plot",
        "embedding",
        "lipsync",
        "merge",
        "content",
      ],
      "scene_video_status": ["pending", "generating", "completed", "failed"],
      "script_status": ["draft", "active", "archived"],
      "script_style": ["cinematic", "narration", "educational"],
      "subscription_status": ["active", "trialing", "past_due", "canceled", "incomplete", "unpaid"],
      "subscription_tier": ["free", "basic", "standard", "premium", "professional", "enterprise"],
      "time_of_day": ["dawn", "morning", "noon", "afternoon", "evening", "night", "unspecified"],
      "user_mode": ["learning", "creator", "entertainment"],
    },
  },
} as const;
