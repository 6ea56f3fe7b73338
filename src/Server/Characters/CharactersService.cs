using CharacterGen.Nodes.Files;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Grpc.Core;

namespace CharacterGen.Server.Characters;

/// <summary>
/// charactergen.v1.Characters: request checks, state checks and mapping; the work is done by <see cref="StepRunner"/>
/// (foreground renders) and <see cref="CharacterPipeline"/> (training set, training). State checks and the writes that
/// follow them run under the pipeline's gate, so two calls never both pass the same check.
/// </summary>
public sealed partial class CharactersService(
    CharacterStore store, CharacterPipeline pipeline, CharacterEvents events, StepRunner runner, StepWorkflows workflows,
    CharacterRequests requests, CharacterOptions options, DataFolders folders) : Protos.V1.Characters.CharactersBase
{
    public override async Task<CreateCharacterResponse> Create(CreateCharacterRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireText(request.Description, "description", required: true);
        CharacterRequests.RequireText(request.NegativePrompt, "negative_prompt", required: false);
        if (request.Name.Length > CharacterLimits.MaxNameLength)
            RpcErrors.ThrowInvalidArgument("name", $"must be at most {CharacterLimits.MaxNameLength} characters");
        CharacterRequests.RequireRequestId(request.ClientRequestId, "client_request_id");
        CharacterRequests.RequireTriggerWord(request.TriggerWord, "trigger_word");
        CharacterRequests.RequireFraction(request.PhotoStrength, "photo_strength");
        if (request.ClientRequestId.Length > 0 && store.FindByRequestId(request.ClientRequestId) is { } earlier)
            return await CreatedAsync(earlier, alreadyCreated: true, request.InlineImages, context.CancellationToken);
        var checkpoint = requests.Checkpoint(request.Checkpoint, "checkpoint");
        var render = CharacterRequests.WithRequestSeed(CharacterRequests.Render(request.Render, requests.Defaults, "render"), request.Render,
            request.ClientRequestId);

        var id = CharacterPipeline.NewId("c");
        var now = DateTimeOffset.UtcNow;
        var character = new CharacterRecord
        {
            Id = id,
            Name = request.Name,
            Description = request.Description,
            NegativePrompt = request.NegativePrompt,
            Checkpoint = checkpoint,
            TriggerWord = request.TriggerWord.Length > 0 ? request.TriggerWord : "cg" + id[2..8],
            Render = new RenderDefaults(render.Width, render.Height, render.Steps, render.Cfg),
            ClientRequestId = request.ClientRequestId.Length > 0 ? request.ClientRequestId : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        string? photo = null;
        if (request.Photo is { SourceCase: not ImageInput.SourceOneofCase.None } given)
            photo = runner.WriteInput(PhotoInput(id), await PhotoBytesAsync(given, context.CancellationToken));
        var strength = request.PhotoStrength > 0 ? request.PhotoStrength : options.PhotoStrength;
        var requestId = character.ClientRequestId is { } key ? $"character/create/{key}" : null;
        var candidate = await RenderCandidateAsync(character, render, photo, strength, requestId, context.CancellationToken);
        try
        {
            store.Add(character, candidate);
        }
        catch (GraphRuntime.Jobs.JobStoreException) when (character.ClientRequestId is { } requestKey && store.FindByRequestId(requestKey) is { } raced)
        {
            return await CreatedAsync(raced, alreadyCreated: true, request.InlineImages, context.CancellationToken);
        }
        return await CreatedAsync(character, alreadyCreated: false, request.InlineImages, context.CancellationToken);
    }

    public override async Task<RegenerateResponse> Regenerate(RegenerateRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireText(request.Description, "description", required: false);
        CharacterRequests.RequireRequestId(request.ClientRequestId, "client_request_id");
        var c = Find(request.CharacterId);
        if (c.Status != CharacterStatus.Initial) throw CharacterRequests.WrongState(c, "Regenerate", CharacterStatus.Initial);
        var render = CharacterRequests.WithRequestSeed(CharacterRequests.Render(request.Render, c.Render, "render"), request.Render,
            request.ClientRequestId);
        if (request.Description.Length > 0) c = c with { Description = request.Description, UpdatedAt = DateTimeOffset.UtcNow };
        var photoPath = runner.InputPath(PhotoInput(c.Id));
        var photo = File.Exists(photoPath) ? PhotoInput(c.Id) : null;
        var requestId = request.ClientRequestId.Length > 0 ? $"character/{c.Id}/regenerate/{request.ClientRequestId}" : null;
        var candidate = await RenderCandidateAsync(c, render, photo, options.PhotoStrength, requestId, context.CancellationToken);
        lock (pipeline.Gate)
        {
            var current = Find(c.Id);
            if (current.Status != CharacterStatus.Initial) throw CharacterRequests.WrongState(current, "Regenerate", CharacterStatus.Initial);
            // A retry (same client request id) found the first attempt's job: that candidate is already kept.
            if (store.Candidates(c.Id).FirstOrDefault(k => k.Image.AssetId == candidate.Image.AssetId && k.Seed == candidate.Seed) is { } kept)
                candidate = kept;
            else
                store.AddCandidate(candidate, c);
        }
        return new RegenerateResponse
        {
            Character = Describe(Find(c.Id)),
            Candidate = CharacterMapping.ToProto(candidate, null, await InlineAsync(request.InlineImages, candidate.Image, context.CancellationToken)),
        };
    }

    public override async Task<ListCandidatesResponse> ListCandidates(ListCandidatesRequest request, ServerCallContext context)
    {
        var c = Find(request.CharacterId);
        var response = new ListCandidatesResponse();
        foreach (var candidate in store.Candidates(c.Id))
            response.Candidates.Add(CharacterMapping.ToProto(candidate, c.ApprovedCandidateId,
                await InlineAsync(request.InlineImages, candidate.Image, context.CancellationToken)));
        return response;
    }

    public override Task<Character> Approve(ApproveRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireId(request.CandidateId, "candidate_id");
        lock (pipeline.Gate)
        {
            var c = Find(request.CharacterId);
            if (c.Status != CharacterStatus.Initial) throw CharacterRequests.WrongState(c, "Approve", CharacterStatus.Initial);
            if (store.Candidates(c.Id).All(k => k.Id != request.CandidateId))
                throw CharacterRequests.NotFound($"candidate of character {c.Id}", request.CandidateId);
            c = pipeline.Transition(c, CharacterStatus.BaseApproved, change: r => r with { ApprovedCandidateId = request.CandidateId });
            return Task.FromResult(Describe(c));
        }
    }

    public override async Task Watch(WatchCharacterRequest request, IServerStreamWriter<CharacterEvent> responses, ServerCallContext context)
    {
        var c = Find(request.CharacterId);
        using var subscription = events.Subscribe(c.Id);
        var snapshot = Describe(Find(c.Id));
        await responses.WriteAsync(new CharacterEvent
        {
            CharacterId = c.Id,
            Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Snapshot = snapshot,
        }, context.CancellationToken);
        if (request.UntilIdle && !IsRunning(snapshot.State)) return;
        await foreach (var e in subscription.Reader.ReadAllAsync(context.CancellationToken))
        {
            await responses.WriteAsync(e, context.CancellationToken);
            if (request.UntilIdle && e.StateChanged is { } change && !IsRunning(change.To)) return;
        }
    }

    public override async Task<Character> Get(GetCharacterRequest request, ServerCallContext context)
    {
        var character = Describe(Find(request.CharacterId));
        if (character.BaseImage is { } image && request.InlineImages)
            image.Content = Google.Protobuf.ByteString.CopyFrom(await runner.ReadAssetAsync(image.AssetId, context.CancellationToken) ?? []);
        return character;
    }

    public override Task<ListCharactersResponse> List(ListCharactersRequest request, ServerCallContext context)
    {
        if (request.PageSize < 0) RpcErrors.ThrowInvalidArgument("page_size", "must not be negative");
        var size = request.PageSize == 0 ? 50 : Math.Min(request.PageSize, 1000);
        var after = CharacterPageToken.Read(request.PageToken);
        var page = store.List(size + 1, after);
        var response = new ListCharactersResponse { Characters = { page.Take(size).Select(Describe) } };
        if (page.Count > size) response.NextPageToken = CharacterPageToken.Write(page[size - 1]);
        return Task.FromResult(response);
    }

    public override async Task<DeleteCharacterResponse> Delete(DeleteCharacterRequest request, ServerCallContext context)
    {
        var c = Find(request.CharacterId);
        pipeline.Cancel(c.Id);
        await pipeline.WaitIdleAsync(c.Id);
        lock (pipeline.Gate) store.Delete(c.Id);
        events.Complete(c.Id);
        foreach (var folder in new[] { runner.InputPath($"characters/{c.Id}"), SafePath.Resolve(folders.Output, $"{CharacterLoras.OutputSubfolder}/{c.Id}") })
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        return new DeleteCharacterResponse();
    }

    // --- helpers shared by the partial files

    private CharacterRecord Find(string characterId)
    {
        CharacterRequests.RequireId(characterId, "character_id");
        return store.Find(characterId) ?? throw CharacterRequests.NotFound("character", characterId);
    }

    private Character Describe(CharacterRecord c) =>
        CharacterMapping.ToProto(c, store.Candidates(c.Id), store.TrainingImages(c.Id), store.LatestRun(c.Id));

    private static bool IsRunning(CharacterState state) => state is CharacterState.GeneratingTraining or CharacterState.Training;

    private async Task<byte[]?> InlineAsync(bool wanted, StoredImage image, CancellationToken cancellationToken) =>
        wanted ? await runner.ReadAssetAsync(image.AssetId, cancellationToken) : null;

    private async Task<CandidateRecord> RenderCandidateAsync(CharacterRecord c, RenderParameters render, string? photo, double strength,
        string? requestId, CancellationToken cancellationToken)
    {
        var workflow = workflows.BaseImage(c, render, photo, strength);
        var job = await runner.RunAsync(workflow, requestId, null, cancellationToken);
        var (image, _) = await runner.SaveImageAsync(job, workflow, StepBindings.SaveImageTitle, cancellationToken);
        return new CandidateRecord(CharacterPipeline.NewId("k"), c.Id, image, c.Description, render.Seed, DateTimeOffset.UtcNow);
    }

    private async Task<CreateCharacterResponse> CreatedAsync(CharacterRecord c, bool alreadyCreated, bool inline, CancellationToken cancellationToken)
    {
        var first = store.Candidates(c.Id)[0];
        return new CreateCharacterResponse
        {
            Character = Describe(c),
            Candidate = CharacterMapping.ToProto(first, c.ApprovedCandidateId, await InlineAsync(inline, first.Image, cancellationToken)),
            AlreadyCreated = alreadyCreated,
        };
    }

    private static string PhotoInput(string characterId) => $"characters/{characterId}/photo.png";

    /// <summary>The photo's bytes: a stored asset, or inline bytes (stored as an asset too). PNG or JPEG only.</summary>
    private async Task<byte[]> PhotoBytesAsync(ImageInput photo, CancellationToken cancellationToken)
    {
        byte[] bytes;
        if (photo.SourceCase == ImageInput.SourceOneofCase.AssetId)
        {
            if (!Assets.AssetId.TryParse(photo.AssetId, out _)) RpcErrors.ThrowInvalidArgument("photo.asset_id", "must be 64 lowercase hex digits");
            bytes = await runner.ReadAssetAsync(photo.AssetId, cancellationToken) ?? throw CharacterRequests.NotFound("asset", photo.AssetId);
        }
        else
        {
            bytes = photo.Content.ToByteArray();
        }
        bool png = bytes.Length > 8 && bytes[0] == 0x89 && bytes[1] == (byte)'P', jpeg = bytes.Length > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8;
        if (!png && !jpeg) RpcErrors.ThrowInvalidArgument("photo", "must be a PNG or JPEG image");
        if (photo.SourceCase == ImageInput.SourceOneofCase.Content) await runner.StoreAsync(bytes, "photo", cancellationToken);
        return bytes;
    }
}
