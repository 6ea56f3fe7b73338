using CharacterGen.Protos.V1;
using Google.Rpc;
using Grpc.Core;
using State = CharacterGen.Protos.V1.CharacterState;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// Refusals: unknown ids (NOT_FOUND), invalid fields (INVALID_ARGUMENT naming the field), calls in the wrong state
/// (FAILED_PRECONDITION naming the current state) and too few training images; none of them changes the character.
/// </summary>
[Category("Characters")]
public sealed class CharacterErrorTests
{
    private CharacterTestServer _host = null!;
    private Protos.V1.Characters.CharactersClient Client => _host.Client;

    [OneTimeSetUp]
    public async Task Start() => _host = await CharacterTestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _host.DisposeAsync();

    [Test]
    public async Task Unknown_ids_are_not_found()
    {
        const string missing = "c-00000000000000000000000000000000";
        var calls = new Func<Task>[]
        {
            async () => await Client.GetAsync(new GetCharacterRequest { CharacterId = missing }),
            async () => await Client.ApproveAsync(new ApproveRequest { CharacterId = missing, CandidateId = "k-1" }),
            async () => await Client.TrainAsync(new TrainRequest { CharacterId = missing }),
            async () => await Client.DeleteAsync(new DeleteCharacterRequest { CharacterId = missing }),
            async () => await Client.ListTrainingImagesAsync(new ListTrainingImagesRequest { CharacterId = missing }),
            async () =>
            {
                using var watch = Client.Watch(new WatchCharacterRequest { CharacterId = missing });
                await watch.ResponseStream.MoveNext();
            },
        };
        foreach (var call in calls)
        {
            var error = (await Assert.ThrowsAsync<RpcException>(() => call()))!;
            Assert.That(error.StatusCode, Is.EqualTo(StatusCode.NotFound));
            Assert.That(error.Status.Detail, Does.Contain(missing));
        }
    }

    [TestCase("", "description")]
    [TestCase("width", "render.width")]
    [TestCase("checkpoint", "checkpoint")]
    [TestCase("seed", "render.seed")]
    [TestCase("strength", "photo_strength")]
    [TestCase("trigger", "trigger_word")]
    public async Task Invalid_create_fields_are_named(string broken, string field)
    {
        var request = new CreateCharacterRequest { Description = broken.Length == 0 ? "" : "a wizard" };
        switch (broken)
        {
            case "width": request.Render = new RenderSettings { Width = 65 }; break;
            case "checkpoint": request.Checkpoint = "missing.safetensors"; break;
            case "seed": request.Render = new RenderSettings { Seed = -5 }; break;
            case "strength": request.PhotoStrength = 1.5; break;
            case "trigger": request.TriggerWord = "two words"; break;
        }
        var error = (await Assert.ThrowsAsync<RpcException>(async () => await Client.CreateAsync(request)))!;

        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain(field));
        Assert.That(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single().Field, Is.EqualTo(field));
    }

    [Test]
    public async Task Other_invalid_arguments_are_named()
    {
        var actor = (await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.GenerateBaseImageAsync(new GenerateBaseImageRequest { Actor = "../etc", Description = "x" })))!;
        Assert.That((actor.StatusCode, actor.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations[0].Field), Is.EqualTo((StatusCode.InvalidArgument, "actor")));

        var page = (await Assert.ThrowsAsync<RpcException>(async () => await Client.ListAsync(new ListCharactersRequest { PageSize = -1 })))!;
        Assert.That((page.StatusCode, page.Status.Detail), Is.EqualTo((StatusCode.InvalidArgument, "Invalid page_size: must not be negative")));

        var user = (await Assert.ThrowsAsync<RpcException>(async () => await Client.GenerateAsync(new GenerateRequest { User = "mallory", Prompt = "x" })))!;
        Assert.That((user.StatusCode, user.Status.Detail.Contains("mallory")), Is.EqualTo((StatusCode.NotFound, true)));
    }

    [Test]
    public async Task Wrong_state_calls_name_the_current_state_and_change_nothing()
    {
        var created = await Client.CreateAsync(new CreateCharacterRequest { Description = "a wizard", Render = new RenderSettings { Seed = 3 } });
        var id = created.Character.CharacterId;

        foreach (var call in new Func<Task>[]
        {
            async () => await Client.GenerateTrainingSetAsync(new GenerateTrainingSetRequest { CharacterId = id }),
            async () => await Client.TrainAsync(new TrainRequest { CharacterId = id }),
            async () => await Client.GenerateSceneAsync(new GenerateSceneRequest { CharacterId = id, Prompt = "x" }),
            async () => await Client.CancelTrainingAsync(new CancelTrainingRequest { CharacterId = id }),
        })
        {
            var error = (await Assert.ThrowsAsync<RpcException>(() => call()))!;
            Assert.That(error.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
            Assert.That(error.Status.Detail, Does.Contain("is in state initial"));
            Assert.That(error.GetRpcStatus()!.GetDetail<ErrorInfo>().Metadata["state"], Is.EqualTo("initial"));
        }
        var unknownCandidate = (await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = "k-nope" })))!;
        Assert.That(unknownCandidate.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That((await Client.GetAsync(new GetCharacterRequest { CharacterId = id })).State, Is.EqualTo(State.Initial));

        await Client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = created.Candidate.CandidateId });
        var again = (await Assert.ThrowsAsync<RpcException>(async () => await Client.RegenerateAsync(new RegenerateRequest { CharacterId = id })))!;
        Assert.That((again.StatusCode, again.Status.Detail), Is.EqualTo((StatusCode.FailedPrecondition,
            $"Character {id} is in state base_approved; Regenerate needs initial.")));
        Assert.That((await Client.GetAsync(new GetCharacterRequest { CharacterId = id })).CandidateCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Create_retried_with_its_client_request_id_returns_the_first_character()
    {
        var request = new CreateCharacterRequest { Description = "a bard", ClientRequestId = "create-" + Guid.NewGuid().ToString("N") };

        var first = await Client.CreateAsync(request);
        var retry = await Client.CreateAsync(request);

        Assert.That(first.AlreadyCreated, Is.False);
        Assert.That(retry.AlreadyCreated, Is.True);
        Assert.That(retry.Character.CharacterId, Is.EqualTo(first.Character.CharacterId));
        Assert.That((retry.Candidate.CandidateId, retry.Candidate.Seed), Is.EqualTo((first.Candidate.CandidateId, first.Candidate.Seed)));
        Assert.That(retry.Character.CandidateCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Train_with_fewer_than_five_images_is_refused()
    {
        var created = await Client.CreateAsync(new CreateCharacterRequest { Description = "a robot", Render = new RenderSettings { Seed = 4 } });
        var id = created.Character.CharacterId;
        await Client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = created.Candidate.CandidateId });
        await Client.GenerateTrainingSetAsync(new GenerateTrainingSetRequest { CharacterId = id, Count = 4 });
        var idle = await CharacterFlowTests.WaitIdleAsync(Client, id);
        Assert.That((idle.State, idle.TrainingImageCount), Is.EqualTo((State.BaseApproved, 4)), idle.ErrorMessage);

        var error = (await Assert.ThrowsAsync<RpcException>(async () => await Client.TrainAsync(new TrainRequest { CharacterId = id })))!;

        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(error.Status.Detail, Does.Contain("has 4 training images; Train needs at least 5"));
        Assert.That(error.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason, Is.EqualTo("TOO_FEW_TRAINING_IMAGES"));
        var after = await Client.GetAsync(new GetCharacterRequest { CharacterId = id });
        Assert.That((after.State, after.Training), Is.EqualTo((State.BaseApproved, (TrainingRun?)null)));
    }
}
