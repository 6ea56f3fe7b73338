using CharacterGen.Protos.V1;
using Grpc.Core;
using State = CharacterGen.Protos.V1.CharacterState;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// The whole character flow over gRPC with the generated client: create → regenerate → approve → training set of 6 →
/// delete one, regenerate one → train → ready → 3 scenes, while a Watch stream records every state change and
/// progress update.
/// </summary>
[Category("Characters")]
public sealed class CharacterFlowTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(15); // a hang guard on a loaded machine, not a timing assertion

    [Test]
    public async Task Create_to_scenes_over_grpc_with_every_transition_watched()
    {
        await using var host = await CharacterTestServer.StartAsync();
        var client = host.Client;

        var created = await client.CreateAsync(new CreateCharacterRequest
        {
            Description = "a knight with red hair", Name = "Knight", Render = new RenderSettings { Seed = 11 }, InlineImages = true,
        });
        var id = created.Character.CharacterId;
        Assert.That(created.Character.State, Is.EqualTo(State.Initial));
        Assert.That(created.Candidate.Seed, Is.EqualTo(11));
        Assert.That(created.Candidate.Image.Width, Is.EqualTo(64));
        Assert.That(created.Candidate.Image.Content.Span[1..4].ToArray(), Is.EqualTo("PNG"u8.ToArray()));

        using var watchCancel = new CancellationTokenSource();
        var watched = WatchAllAsync(client, id, watchCancel.Token);

        var second = await client.RegenerateAsync(new RegenerateRequest { CharacterId = id });
        Assert.That(second.Candidate.Seed, Is.Not.EqualTo(11), "a new seed unless one is given");
        Assert.That(second.Candidate.Image.AssetId, Is.Not.EqualTo(created.Candidate.Image.AssetId));
        var candidates = (await client.ListCandidatesAsync(new ListCandidatesRequest { CharacterId = id })).Candidates;
        Assert.That(candidates.Select(c => c.CandidateId), Is.EqualTo(new[] { created.Candidate.CandidateId, second.Candidate.CandidateId }));

        var approved = await client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = second.Candidate.CandidateId });
        Assert.That(approved.State, Is.EqualTo(State.BaseApproved));
        Assert.That(approved.BaseImage.AssetId, Is.EqualTo(second.Candidate.Image.AssetId));

        var generating = await client.GenerateTrainingSetAsync(new GenerateTrainingSetRequest
        {
            CharacterId = id, Count = 6, CustomPrompts = { "character in battle pose" },
        });
        Assert.That(generating.State, Is.EqualTo(State.GeneratingTraining));
        Assert.That(generating.TrainingSetTotal, Is.EqualTo(6));
        var afterSet = await WaitIdleAsync(client, id);
        Assert.That(afterSet.State, Is.EqualTo(State.BaseApproved), afterSet.ErrorMessage);
        var images = (await client.ListTrainingImagesAsync(new ListTrainingImagesRequest { CharacterId = id })).TrainingImages;
        Assert.That(images.Select(i => i.Index), Is.EqualTo(Enumerable.Range(0, 6)));
        Assert.That(images[0].Prompt, Is.EqualTo("character in battle pose"));
        Assert.That(images.Select(i => i.Image.AssetId).Distinct().Count(), Is.EqualTo(6));

        await client.DeleteTrainingImageAsync(new DeleteTrainingImageRequest { CharacterId = id, TrainingImageId = images[5].TrainingImageId });
        var redone = await client.RegenerateTrainingImageAsync(new RegenerateTrainingImageRequest
        {
            CharacterId = id, TrainingImageId = images[1].TrainingImageId, Prompt = "character waving",
        });
        Assert.That(redone.Image.AssetId, Is.Not.EqualTo(images[1].Image.AssetId));
        var fetched = await client.GetTrainingImageAsync(new GetTrainingImageRequest { CharacterId = id, TrainingImageId = images[1].TrainingImageId });
        Assert.That((fetched.Prompt, fetched.Image.AssetId), Is.EqualTo(("character waving", redone.Image.AssetId)));
        Assert.That((await client.GetAsync(new GetCharacterRequest { CharacterId = id })).TrainingImageCount, Is.EqualTo(5));

        var training = await client.TrainAsync(new TrainRequest { CharacterId = id, Steps = 4, Rank = 4, LearningRate = 1e-3 });
        Assert.That(training.State, Is.EqualTo(State.Training));
        var ready = await WaitIdleAsync(client, id);
        Assert.That(ready.State, Is.EqualTo(State.Ready), ready.ErrorMessage);
        Assert.That(ready.LoraName, Does.StartWith(id + "/").And.EndWith(".safetensors"));
        Assert.That(ready.Training.Progress.Step, Is.EqualTo(4));
        Assert.That(ready.Training.Progress.Loss, Is.GreaterThan(0));
        Assert.That(ready.Training.FinishedAt, Is.Not.Null);

        var scenes = new List<GenerateSceneResponse>();
        foreach (var (prompt, seed) in new[] { ("in a forest", 1L), ("on a beach", 2L), ("in a city at night", 3L) })
            scenes.Add(await client.GenerateSceneAsync(new GenerateSceneRequest { CharacterId = id, Prompt = prompt, Render = new RenderSettings { Seed = seed } }));
        Assert.That(scenes.Select(s => s.Seed), Is.EqualTo(new[] { 1L, 2L, 3L }));
        Assert.That(scenes.Select(s => s.Prompt), Has.All.StartWith(ready.TriggerWord + ", "));
        Assert.That(scenes.Select(s => s.Image.AssetId).Distinct().Count(), Is.EqualTo(3));

        watchCancel.Cancel();
        var events = await watched;
        Assert.That(events[0].EventCase, Is.EqualTo(CharacterEvent.EventOneofCase.Snapshot));
        Assert.That(events.Where(e => e.StateChanged is not null).Select(e => (e.StateChanged.From, e.StateChanged.To)), Is.EqualTo(new[]
        {
            (State.Initial, State.BaseApproved),
            (State.BaseApproved, State.GeneratingTraining),
            (State.GeneratingTraining, State.BaseApproved),
            (State.BaseApproved, State.Training),
            (State.Training, State.Ready),
        }));
        Assert.That(events.Where(e => e.TrainingSetProgress is not null).Select(e => e.TrainingSetProgress.Done), Is.EqualTo(Enumerable.Range(1, 6)));
        var steps = events.Where(e => e.TrainingProgress is not null).Select(e => e.TrainingProgress).ToList();
        Assert.That(steps.Select(s => s.Step), Is.EqualTo(new[] { 1, 2, 3, 4 }));
        Assert.That(steps.All(s => s.TotalSteps == 4 && s.Loss > 0 && s.EtaSeconds >= 0));
    }

    /// <summary>Every event of a Watch until <paramref name="cancellationToken"/> ends it.</summary>
    internal static async Task<List<CharacterEvent>> WatchAllAsync(Protos.V1.Characters.CharactersClient client, string id, CancellationToken cancellationToken)
    {
        var events = new List<CharacterEvent>();
        using var call = client.Watch(new WatchCharacterRequest { CharacterId = id });
        try
        {
            await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken)) events.Add(e);
        }
        catch (Exception e) when (e is OperationCanceledException || e is RpcException { StatusCode: StatusCode.Cancelled }) { }
        return events;
    }

    /// <summary>Follows a Watch with until_idle to its end and returns the character then.</summary>
    internal static async Task<Character> WaitIdleAsync(Protos.V1.Characters.CharactersClient client, string id, TimeSpan? hang = null)
    {
        using var guard = new CancellationTokenSource(hang ?? Hang);
        using var call = client.Watch(new WatchCharacterRequest { CharacterId = id, UntilIdle = true }, cancellationToken: guard.Token);
        await foreach (var _ in call.ResponseStream.ReadAllAsync(guard.Token)) { }
        return await client.GetAsync(new GetCharacterRequest { CharacterId = id });
    }
}
