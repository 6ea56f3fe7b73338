namespace CharacterGen.Server.Characters;

/// <summary>
/// The character pipeline's tables, one migration of the job store's schema (<see cref="Storage.JobStoreSchema"/>), so
/// characters live in the same SQLite file or PostgreSQL database as the jobs that render them. Images are asset ids;
/// the training plan is JSON; times are UTC ticks.
/// </summary>
internal static class CharacterSchema
{
    public static readonly string[] Tables =
    [
        """
        CREATE TABLE characters (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            negative_prompt TEXT NOT NULL,
            checkpoint TEXT NOT NULL,
            trigger_word TEXT NOT NULL,
            width BIGINT NOT NULL,
            height BIGINT NOT NULL,
            steps BIGINT NOT NULL,
            cfg DOUBLE PRECISION NOT NULL,
            state TEXT NOT NULL,
            error_message TEXT NOT NULL,
            approved_candidate_id TEXT,
            client_request_id TEXT UNIQUE,
            training_plan TEXT,
            lora_name TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX characters_created ON characters (created_at, id)",
        """
        CREATE TABLE character_candidates (
            id TEXT NOT NULL PRIMARY KEY,
            character_id TEXT NOT NULL,
            asset_id TEXT NOT NULL,
            width BIGINT NOT NULL,
            height BIGINT NOT NULL,
            prompt TEXT NOT NULL,
            seed BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX character_candidates_owner ON character_candidates (character_id, created_at)",
        """
        CREATE TABLE character_training_images (
            id TEXT NOT NULL PRIMARY KEY,
            character_id TEXT NOT NULL,
            idx BIGINT NOT NULL,
            asset_id TEXT NOT NULL,
            width BIGINT NOT NULL,
            height BIGINT NOT NULL,
            prompt TEXT NOT NULL,
            seed BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (character_id, idx)
        )
        """,
        """
        CREATE TABLE character_training_runs (
            id TEXT NOT NULL PRIMARY KEY,
            character_id TEXT NOT NULL,
            rank BIGINT NOT NULL,
            alpha DOUBLE PRECISION NOT NULL,
            steps BIGINT NOT NULL,
            learning_rate DOUBLE PRECISION NOT NULL,
            seed BIGINT NOT NULL,
            last_progress TEXT,
            started_at BIGINT NOT NULL,
            finished_at BIGINT
        )
        """,
        "CREATE INDEX character_training_runs_owner ON character_training_runs (character_id, started_at)",
    ];
}
