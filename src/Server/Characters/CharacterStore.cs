using System.Data.Common;
using System.Text.Json;
using CharacterGen.Server.Storage;

namespace CharacterGen.Server.Characters;

/// <summary>
/// Characters, their candidates, training images and training runs in the job store's database (SQLite or PostgreSQL,
/// the tables of <see cref="CharacterSchema"/>). Every write commits before it returns, so what a call acknowledged
/// survives kill -9.
/// </summary>
public sealed class CharacterStore(SqlJobStore database)
{
    private const string CharacterColumns =
        "id, name, description, negative_prompt, checkpoint, trigger_word, width, height, steps, cfg, state, error_message, " +
        "approved_candidate_id, client_request_id, training_plan, lora_name, created_at, updated_at";

    public void Add(CharacterRecord c, CandidateRecord first) => database.Use(connection =>
    {
        using var transaction = connection.BeginTransaction();
        SqlJobStore.Execute(connection, transaction,
            $"INSERT INTO characters ({CharacterColumns}) VALUES (@id, @name, @description, @negative, @checkpoint, @trigger, @width, " +
            "@height, @steps, @cfg, @state, @error, @approved, @request, @plan, @lora, @created, @updated)",
            CharacterParameters(c));
        InsertCandidate(connection, transaction, first);
        transaction.Commit();
        return 0;
    });

    /// <summary>Writes every mutable column of the character (state, error, approval, plan, LoRA, description).</summary>
    public void Update(CharacterRecord c) => database.Use(connection => SqlJobStore.Execute(connection, null,
        "UPDATE characters SET name = @name, description = @description, negative_prompt = @negative, checkpoint = @checkpoint, " +
        "trigger_word = @trigger, width = @width, height = @height, steps = @steps, cfg = @cfg, state = @state, error_message = @error, " +
        "approved_candidate_id = @approved, client_request_id = @request, training_plan = @plan, lora_name = @lora, " +
        "created_at = @created, updated_at = @updated WHERE id = @id",
        CharacterParameters(c)));

    public CharacterRecord? Find(string id) =>
        database.Use(connection => ReadCharacters(connection, $"SELECT {CharacterColumns} FROM characters WHERE id = @id", ("id", id)).FirstOrDefault());

    public CharacterRecord? FindByRequestId(string requestId) =>
        database.Use(connection => ReadCharacters(connection, $"SELECT {CharacterColumns} FROM characters WHERE client_request_id = @r", ("r", requestId)).FirstOrDefault());

    /// <summary>Newest first; <paramref name="after"/> is the (created_at, id) of the previous page's last one.</summary>
    public IReadOnlyList<CharacterRecord> List(int limit, (long CreatedAt, string Id)? after) => database.Use(connection => after is { } a
        ? ReadCharacters(connection, $"SELECT {CharacterColumns} FROM characters WHERE created_at < @t OR (created_at = @t AND id < @id) " +
            $"ORDER BY created_at DESC, id DESC LIMIT {limit}", ("t", a.CreatedAt), ("id", a.Id))
        : ReadCharacters(connection, $"SELECT {CharacterColumns} FROM characters ORDER BY created_at DESC, id DESC LIMIT {limit}"));

    /// <summary>Characters whose step was running when the server stopped.</summary>
    public IReadOnlyList<CharacterRecord> Running() => database.Use(connection =>
        ReadCharacters(connection, $"SELECT {CharacterColumns} FROM characters WHERE state IN ('generating_training', 'training') ORDER BY created_at"));

    public void Delete(string id) => database.Use(connection =>
    {
        using var transaction = connection.BeginTransaction();
        foreach (var table in new[] { "character_candidates", "character_training_images", "character_training_runs" })
            SqlJobStore.Execute(connection, transaction, $"DELETE FROM {table} WHERE character_id = @id", ("id", id));
        SqlJobStore.Execute(connection, transaction, "DELETE FROM characters WHERE id = @id", ("id", id));
        transaction.Commit();
        return 0;
    });

    // --- candidates

    public void AddCandidate(CandidateRecord candidate, CharacterRecord updated) => database.Use(connection =>
    {
        using var transaction = connection.BeginTransaction();
        InsertCandidate(connection, transaction, candidate);
        SqlJobStore.Execute(connection, transaction, "UPDATE characters SET description = @d, updated_at = @u WHERE id = @id",
            ("d", updated.Description), ("u", updated.UpdatedAt.UtcTicks), ("id", updated.Id));
        transaction.Commit();
        return 0;
    });

    public IReadOnlyList<CandidateRecord> Candidates(string characterId) => database.Use(connection =>
    {
        using var command = SqlJobStore.Command(connection, null,
            "SELECT id, character_id, asset_id, width, height, prompt, seed, created_at FROM character_candidates " +
            "WHERE character_id = @c ORDER BY created_at, id", [("c", characterId)]);
        using var reader = command.ExecuteReader();
        var list = new List<CandidateRecord>();
        while (reader.Read())
            list.Add(new CandidateRecord(reader.GetString(0), reader.GetString(1), Image(reader, 2), reader.GetString(5), reader.GetInt64(6), Time(reader, 7)));
        return list;
    });

    // --- training images

    /// <summary>Adds an image, or replaces the one at the same index (RegenerateTrainingImage).</summary>
    public void PutTrainingImage(TrainingImageRecord image) => database.Use(connection =>
    {
        using var transaction = connection.BeginTransaction();
        SqlJobStore.Execute(connection, transaction, "DELETE FROM character_training_images WHERE character_id = @c AND idx = @i",
            ("c", image.CharacterId), ("i", (long)image.Index));
        SqlJobStore.Execute(connection, transaction,
            "INSERT INTO character_training_images (id, character_id, idx, asset_id, width, height, prompt, seed, created_at) " +
            "VALUES (@id, @c, @i, @a, @w, @h, @p, @s, @t)",
            ("id", image.Id), ("c", image.CharacterId), ("i", (long)image.Index), ("a", image.Image.AssetId), ("w", (long)image.Image.Width),
            ("h", (long)image.Image.Height), ("p", image.Prompt), ("s", image.Seed), ("t", image.CreatedAt.UtcTicks));
        transaction.Commit();
        return 0;
    });

    public IReadOnlyList<TrainingImageRecord> TrainingImages(string characterId) => database.Use(connection =>
    {
        using var command = SqlJobStore.Command(connection, null,
            "SELECT id, character_id, idx, asset_id, width, height, prompt, seed, created_at FROM character_training_images " +
            "WHERE character_id = @c ORDER BY idx", [("c", characterId)]);
        using var reader = command.ExecuteReader();
        var list = new List<TrainingImageRecord>();
        while (reader.Read())
            list.Add(new TrainingImageRecord(reader.GetString(0), reader.GetString(1), (int)reader.GetInt64(2), Image(reader, 3),
                reader.GetString(6), reader.GetInt64(7), Time(reader, 8)));
        return list;
    });

    public void DeleteTrainingImages(string characterId) => database.Use(connection =>
        SqlJobStore.Execute(connection, null, "DELETE FROM character_training_images WHERE character_id = @c", ("c", characterId)));

    public bool DeleteTrainingImage(string characterId, string imageId) => database.Use(connection =>
        SqlJobStore.Execute(connection, null, "DELETE FROM character_training_images WHERE character_id = @c AND id = @id",
            ("c", characterId), ("id", imageId)) > 0);

    // --- training runs

    public void AddRun(TrainingRunRecord run) => database.Use(connection => SqlJobStore.Execute(connection, null,
        "INSERT INTO character_training_runs (id, character_id, rank, alpha, steps, learning_rate, seed, last_progress, started_at, finished_at) " +
        "VALUES (@id, @c, @r, @a, @s, @lr, @seed, @p, @t, @f)",
        ("id", run.Id), ("c", run.CharacterId), ("r", (long)run.Rank), ("a", run.Alpha), ("s", (long)run.Steps), ("lr", run.LearningRate),
        ("seed", run.Seed), ("p", run.LastProgress), ("t", run.StartedAt.UtcTicks), ("f", SqlJobStore.Ticks(run.FinishedAt))));

    public void UpdateRun(string runId, string? lastProgress, DateTimeOffset? finishedAt) => database.Use(connection => SqlJobStore.Execute(connection, null,
        "UPDATE character_training_runs SET last_progress = @p, finished_at = @f WHERE id = @id",
        ("p", lastProgress), ("f", SqlJobStore.Ticks(finishedAt)), ("id", runId)));

    public TrainingRunRecord? LatestRun(string characterId) => database.Use(connection =>
    {
        using var command = SqlJobStore.Command(connection, null,
            "SELECT id, character_id, rank, alpha, steps, learning_rate, seed, last_progress, started_at, finished_at " +
            "FROM character_training_runs WHERE character_id = @c ORDER BY started_at DESC, id DESC LIMIT 1", [("c", characterId)]);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new TrainingRunRecord
        {
            Id = reader.GetString(0),
            CharacterId = reader.GetString(1),
            Rank = (int)reader.GetInt64(2),
            Alpha = reader.GetDouble(3),
            Steps = (int)reader.GetInt64(4),
            LearningRate = reader.GetDouble(5),
            Seed = reader.GetInt64(6),
            LastProgress = reader.IsDBNull(7) ? null : reader.GetString(7),
            StartedAt = Time(reader, 8),
            FinishedAt = reader.IsDBNull(9) ? null : Time(reader, 9),
        };
    });

    // --- mapping

    private static void InsertCandidate(DbConnection connection, DbTransaction transaction, CandidateRecord c) =>
        SqlJobStore.Execute(connection, transaction,
            "INSERT INTO character_candidates (id, character_id, asset_id, width, height, prompt, seed, created_at) " +
            "VALUES (@id, @c, @a, @w, @h, @p, @s, @t)",
            ("id", c.Id), ("c", c.CharacterId), ("a", c.Image.AssetId), ("w", (long)c.Image.Width), ("h", (long)c.Image.Height),
            ("p", c.Prompt), ("s", c.Seed), ("t", c.CreatedAt.UtcTicks));

    private static (string, object?)[] CharacterParameters(CharacterRecord c) =>
    [
        ("id", c.Id), ("name", c.Name), ("description", c.Description), ("negative", c.NegativePrompt), ("checkpoint", c.Checkpoint),
        ("trigger", c.TriggerWord), ("width", (long)c.Render.Width), ("height", (long)c.Render.Height), ("steps", (long)c.Render.Steps),
        ("cfg", c.Render.Cfg), ("state", c.Status.Name()), ("error", c.ErrorMessage), ("approved", c.ApprovedCandidateId),
        ("request", c.ClientRequestId), ("plan", c.Plan is null ? null : JsonSerializer.Serialize(c.Plan)), ("lora", c.LoraName),
        ("created", c.CreatedAt.UtcTicks), ("updated", c.UpdatedAt.UtcTicks),
    ];

    private static List<CharacterRecord> ReadCharacters(DbConnection connection, string sql, params (string, object?)[] parameters)
    {
        using var command = SqlJobStore.Command(connection, null, sql, parameters);
        using var reader = command.ExecuteReader();
        var list = new List<CharacterRecord>();
        while (reader.Read())
            list.Add(new CharacterRecord
            {
                Id = reader.GetString(0),
                Name = reader.GetString(1),
                Description = reader.GetString(2),
                NegativePrompt = reader.GetString(3),
                Checkpoint = reader.GetString(4),
                TriggerWord = reader.GetString(5),
                Render = new RenderDefaults((int)reader.GetInt64(6), (int)reader.GetInt64(7), (int)reader.GetInt64(8), reader.GetDouble(9)),
                Status = CharacterStatusNames.Parse(reader.GetString(10)),
                ErrorMessage = reader.GetString(11),
                ApprovedCandidateId = Text(reader, 12),
                ClientRequestId = Text(reader, 13),
                Plan = Text(reader, 14) is { } plan ? JsonSerializer.Deserialize<TrainingPlan>(plan) : null,
                LoraName = Text(reader, 15),
                CreatedAt = Time(reader, 16),
                UpdatedAt = Time(reader, 17),
            });
        return list;
    }

    private static StoredImage Image(DbDataReader reader, int i) =>
        new(reader.GetString(i), (int)reader.GetInt64(i + 1), (int)reader.GetInt64(i + 2));

    private static string? Text(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static DateTimeOffset Time(DbDataReader reader, int i) => new(reader.GetInt64(i), TimeSpan.Zero);
}
