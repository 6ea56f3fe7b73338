using CharacterGen.Protos.V1;
using CharacterGen.Server.Tests.Characters;
using Npgsql;
using State = CharacterGen.Protos.V1.CharacterState;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// The character flow with the job store in PostgreSQL (Debian's, started by <see cref="PostgresServer"/>): the same
/// migration creates the character tables there, and create → approve → training set → train → ready → scene works
/// with every record in that database. (In this namespace so the shared cluster's teardown runs after it.)
/// </summary>
[Category("Characters")]
public sealed class PostgresCharacterTests
{
    [Test]
    public async Task Character_flow_on_postgresql()
    {
        var connection = PostgresServer.Require().CreateDatabase();
        await using var host = await CharacterTestServer.StartAsync(database: connection);
        var client = host.Client;

        var created = await client.CreateAsync(new CreateCharacterRequest { Description = "a knight", Render = new RenderSettings { Seed = 5 } });
        var id = created.Character.CharacterId;
        await client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = created.Candidate.CandidateId });
        await client.GenerateTrainingSetAsync(new GenerateTrainingSetRequest { CharacterId = id, Count = 5 });
        var afterSet = await CharacterFlowTests.WaitIdleAsync(client, id);
        Assert.That((afterSet.State, afterSet.TrainingImageCount), Is.EqualTo((State.BaseApproved, 5)), afterSet.ErrorMessage);
        await client.TrainAsync(new TrainRequest { CharacterId = id, Steps = 2, Rank = 4 });
        var ready = await CharacterFlowTests.WaitIdleAsync(client, id);
        Assert.That(ready.State, Is.EqualTo(State.Ready), ready.ErrorMessage);
        var scene = await client.GenerateSceneAsync(new GenerateSceneRequest { CharacterId = id, Prompt = "in a forest" });
        Assert.That(scene.Image.AssetId, Has.Length.EqualTo(64));

        await using var database = new NpgsqlConnection(connection);
        await database.OpenAsync();
        await using var count = database.CreateCommand();
        count.CommandText = "SELECT (SELECT state FROM characters WHERE id = @id) || ' ' || " +
                            "(SELECT COUNT(*) FROM character_training_images WHERE character_id = @id) || ' ' || " +
                            "(SELECT COUNT(*) FROM character_training_runs WHERE character_id = @id AND finished_at IS NOT NULL)";
        count.Parameters.AddWithValue("id", id);
        Assert.That(await count.ExecuteScalarAsync(), Is.EqualTo("ready 5 1"));
    }
}
