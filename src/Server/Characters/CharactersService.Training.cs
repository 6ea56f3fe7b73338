using System.Security.Cryptography;
using System.Text;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Grpc.Core;

namespace CharacterGen.Server.Characters;

/// <summary>The training set and the LoRA: generate, curate, train, cancel.</summary>
public sealed partial class CharactersService
{
    private static readonly CharacterStatus[] Curating = [CharacterStatus.BaseApproved, CharacterStatus.Ready, CharacterStatus.Error];

    public override Task<Character> GenerateTrainingSet(GenerateTrainingSetRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireRequestId(request.ClientRequestId, "client_request_id");
        if (request.Count is < 0 or > CharacterLimits.MaxTrainingSetSize)
            RpcErrors.ThrowInvalidArgument("count", $"must be between 1 and {CharacterLimits.MaxTrainingSetSize} (0 = the default)");
        for (var i = 0; i < request.CustomPrompts.Count; i++)
            CharacterRequests.RequireText(request.CustomPrompts[i], $"custom_prompts[{i}]", required: true);
        var count = request.Count > 0 ? request.Count : Math.Max(options.TrainingSetSize, request.CustomPrompts.Count);
        if (request.CustomPrompts.Count > count)
            RpcErrors.ThrowInvalidArgument("custom_prompts", $"has {request.CustomPrompts.Count} prompts, more than count ({count})");
        CharacterRequests.RequireFraction(request.VariationStrength, "variation_strength");
        lock (pipeline.Gate)
        {
            var c = Find(request.CharacterId);
            if (request.ClientRequestId.Length > 0 && c.Plan?.ClientRequestId == request.ClientRequestId) return Task.FromResult(Describe(c));
            if (c.Status is not (CharacterStatus.BaseApproved or CharacterStatus.Error) || c.ApprovedCandidateId is null)
                throw CharacterRequests.WrongState(c, "GenerateTrainingSet", CharacterStatus.BaseApproved, CharacterStatus.Error);
            var render = CharacterRequests.Render(request.Render, c.Render, "render");
            var plan = new TrainingPlan(
                VariationPrompts.Plan(count, request.CustomPrompts, render.Seed),
                request.VariationStrength > 0 ? request.VariationStrength : options.VariationStrength,
                new RenderDefaults(render.Width, render.Height, render.Steps, render.Cfg),
                $"character/{c.Id}/set/{Guid.NewGuid():N}",
                request.ClientRequestId.Length > 0 ? request.ClientRequestId : null);
            store.DeleteTrainingImages(c.Id); // a new set replaces the old one
            c = pipeline.Transition(c, CharacterStatus.GeneratingTraining, change: r => r with { Plan = plan });
            pipeline.Start(c.Id);
            return Task.FromResult(Describe(c));
        }
    }

    public override async Task<ListTrainingImagesResponse> ListTrainingImages(ListTrainingImagesRequest request, ServerCallContext context)
    {
        var c = Find(request.CharacterId);
        var response = new ListTrainingImagesResponse();
        foreach (var image in store.TrainingImages(c.Id))
            response.TrainingImages.Add(CharacterMapping.ToProto(image, await InlineAsync(request.InlineImages, image.Image, context.CancellationToken)));
        return response;
    }

    public override async Task<TrainingImage> GetTrainingImage(GetTrainingImageRequest request, ServerCallContext context)
    {
        var image = FindTrainingImage(Find(request.CharacterId), request.TrainingImageId);
        return CharacterMapping.ToProto(image, await InlineAsync(request.InlineImages, image.Image, context.CancellationToken));
    }

    public override async Task<TrainingImage> RegenerateTrainingImage(RegenerateTrainingImageRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireText(request.Prompt, "prompt", required: false);
        var c = Find(request.CharacterId);
        if (!Curating.Contains(c.Status)) throw CharacterRequests.WrongState(c, "RegenerateTrainingImage", Curating);
        var old = FindTrainingImage(c, request.TrainingImageId);
        var render = CharacterRequests.Render(request.Render, c.Plan?.Render ?? c.Render, "render");
        var prompt = request.Prompt.Length > 0 ? request.Prompt : old.Prompt;
        var baseInput = await pipeline.WriteBaseImageAsync(c, context.CancellationToken);
        var workflow = workflows.TrainingImage(c, baseInput, prompt, render, c.Plan?.Strength ?? options.VariationStrength);
        var job = await runner.RunAsync(workflow, null, null, context.CancellationToken);
        var (image, png) = await runner.SaveImageAsync(job, workflow, StepBindings.SaveImageTitle, context.CancellationToken);
        var replaced = old with { Image = image, Prompt = prompt, Seed = render.Seed, CreatedAt = DateTimeOffset.UtcNow };
        lock (pipeline.Gate)
        {
            var current = Find(c.Id);
            if (!Curating.Contains(current.Status)) throw CharacterRequests.WrongState(current, "RegenerateTrainingImage", Curating);
            FindTrainingImage(current, old.Id);
            store.PutTrainingImage(replaced);
        }
        return CharacterMapping.ToProto(replaced, request.InlineImages ? png : null);
    }

    public override Task<DeleteTrainingImageResponse> DeleteTrainingImage(DeleteTrainingImageRequest request, ServerCallContext context)
    {
        lock (pipeline.Gate)
        {
            var c = Find(request.CharacterId);
            if (!Curating.Contains(c.Status)) throw CharacterRequests.WrongState(c, "DeleteTrainingImage", Curating);
            store.DeleteTrainingImage(c.Id, FindTrainingImage(c, request.TrainingImageId).Id);
            return Task.FromResult(new DeleteTrainingImageResponse { Character = Describe(Find(c.Id)) });
        }
    }

    public override Task<Character> Train(TrainRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireRequestId(request.ClientRequestId, "client_request_id");
        if (request.Rank is < 0 or > 1024) RpcErrors.ThrowInvalidArgument("rank", "must be between 1 and 1024 (0 = the default)");
        if (!(request.Alpha >= 0 && request.Alpha <= 10000)) RpcErrors.ThrowInvalidArgument("alpha", "must be between 0 and 10000 (0 = the default)");
        if (request.Steps is < 0 or > 1_000_000) RpcErrors.ThrowInvalidArgument("steps", "must be between 1 and 1000000 (0 = from epochs or the default)");
        if (request.Epochs is < 0 or > 10_000) RpcErrors.ThrowInvalidArgument("epochs", "must be between 1 and 10000 (0 = unused)");
        if (!(request.LearningRate >= 0 && request.LearningRate <= 1)) RpcErrors.ThrowInvalidArgument("learning_rate", "must be between 0 and 1 (0 = the default)");
        if (request.Seed < 0) RpcErrors.ThrowInvalidArgument("seed", "must not be negative");
        lock (pipeline.Gate)
        {
            var c = Find(request.CharacterId);
            var runId = request.ClientRequestId.Length > 0 ? RunIdFor(c.Id, request.ClientRequestId) : CharacterPipeline.NewId("r");
            if (store.LatestRun(c.Id)?.Id == runId) return Task.FromResult(Describe(c)); // a retried Train
            if (!Curating.Contains(c.Status)) throw CharacterRequests.WrongState(c, "Train", Curating);
            var images = store.TrainingImages(c.Id).Count;
            if (images < options.MinTrainingImages)
                RpcErrors.ThrowFailedPrecondition(
                    $"Character {c.Id} has {images} training images; Train needs at least {options.MinTrainingImages} (GenerateTrainingSet makes them).",
                    "TOO_FEW_TRAINING_IMAGES");
            store.AddRun(new TrainingRunRecord
            {
                Id = runId,
                CharacterId = c.Id,
                Rank = request.Rank > 0 ? request.Rank : options.LoraRank,
                Alpha = request.Alpha > 0 ? request.Alpha : options.LoraAlpha,
                Steps = request.Steps > 0 ? request.Steps : request.Epochs > 0 ? request.Epochs * images : options.TrainingSteps,
                LearningRate = request.LearningRate > 0 ? request.LearningRate : options.LearningRate,
                Seed = request.Seed,
                StartedAt = DateTimeOffset.UtcNow,
            });
            c = pipeline.Transition(c, CharacterStatus.Training);
            pipeline.Start(c.Id);
            return Task.FromResult(Describe(c));
        }
    }

    public override async Task<Character> CancelTraining(CancelTrainingRequest request, ServerCallContext context)
    {
        var c = Find(request.CharacterId);
        if (!c.Status.IsRunning() || !pipeline.Cancel(c.Id))
            throw CharacterRequests.WrongState(c, "CancelTraining", CharacterStatus.GeneratingTraining, CharacterStatus.Training);
        await pipeline.WaitIdleAsync(c.Id);
        return Describe(Find(c.Id));
    }

    private TrainingImageRecord FindTrainingImage(CharacterRecord c, string imageId)
    {
        CharacterRequests.RequireId(imageId, "training_image_id");
        return store.TrainingImages(c.Id).FirstOrDefault(i => i.Id == imageId)
            ?? throw CharacterRequests.NotFound($"training image of character {c.Id}", imageId);
    }

    /// <summary>A retried Train with the same client request id names the same run.</summary>
    private static string RunIdFor(string characterId, string clientRequestId) =>
        "r-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(characterId + "/" + clientRequestId)))[..32];
}
