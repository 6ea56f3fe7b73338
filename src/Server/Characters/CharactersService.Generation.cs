using System.Diagnostics;
using CharacterGen.Nodes.Files;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Grpc.Core;

namespace CharacterGen.Server.Characters;

/// <summary>Pictures made with a character or for a client: scenes, actor base images, per-user generation.</summary>
public sealed partial class CharactersService
{
    /// <summary>Data-folder names an actor folder must not take.</summary>
    private static readonly HashSet<string> ReservedActorNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "input", "output", "temp", "assets", "jobs.db", "jobs.db-wal", "jobs.db-shm",
    };

    public override async Task<GenerateSceneResponse> GenerateScene(GenerateSceneRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireText(request.Prompt, "prompt", required: true);
        CharacterRequests.RequireText(request.NegativePrompt, "negative_prompt", required: false);
        if (!(request.LoraStrength >= 0 && request.LoraStrength <= 4)) RpcErrors.ThrowInvalidArgument("lora_strength", "must be between 0 and 4 (0 = 1.0)");
        var c = Find(request.CharacterId);
        if (c.Status != CharacterStatus.Ready || c.LoraName is null) throw CharacterRequests.WrongState(c, "GenerateScene", CharacterStatus.Ready);
        var render = CharacterRequests.Render(request.Render, c.Render, "render");
        var prompt = $"{c.TriggerWord}, {request.Prompt}";
        var negative = request.NegativePrompt.Length > 0 ? request.NegativePrompt : c.NegativePrompt;
        var workflow = workflows.SceneImage(c, prompt, negative, render, request.LoraStrength > 0 ? request.LoraStrength : 1.0);
        var job = await runner.RunAsync(workflow, null, null, context.CancellationToken);
        var (image, png) = await runner.SaveImageAsync(job, workflow, StepBindings.SaveImageTitle, context.CancellationToken);
        return new GenerateSceneResponse
        {
            Image = CharacterMapping.ToProto(image, request.InlineImages ? png : null),
            Seed = render.Seed,
            Prompt = prompt,
        };
    }

    public override async Task<GenerateBaseImageResponse> GenerateBaseImage(GenerateBaseImageRequest request, ServerCallContext context)
    {
        CharacterRequests.RequireActor(request.Actor);
        if (ReservedActorNames.Contains(request.Actor)) RpcErrors.ThrowInvalidArgument("actor", $"'{request.Actor}' is a name the data folder uses itself");
        CharacterRequests.RequireText(request.Description, "description", required: true);
        var checkpoint = requests.Checkpoint(request.Checkpoint, "checkpoint");
        var render = CharacterRequests.Render(request.Render, new RenderDefaults(options.ActorWidth, options.ActorHeight, options.ActorSteps, options.Cfg), "render");
        var prompt = options.ActorPromptTemplate.Replace("{description}", request.Description, StringComparison.Ordinal);
        var workflow = workflows.Actor(request.Actor, checkpoint, prompt, render);
        var job = await runner.RunAsync(workflow, null, null, context.CancellationToken);
        var (image, png) = await runner.SaveImageAsync(job, workflow, StepBindings.SaveImageTitle, context.CancellationToken);

        var relative = $"{request.Actor}/base_image/{request.Actor}_base.png";
        var target = SafePath.Resolve(folders.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        AtomicFile.Write(target, png, "data", overwrite: true);
        return new GenerateBaseImageResponse
        {
            Path = relative,
            Seed = render.Seed,
            Prompt = prompt,
            Image = CharacterMapping.ToProto(image, request.InlineImages ? png : null),
        };
    }

    public override async Task<GenerateResponse> Generate(GenerateRequest request, ServerCallContext context)
    {
        if (request.User.Length == 0) RpcErrors.ThrowInvalidArgument("user", "must not be empty");
        CharacterRequests.RequireText(request.Prompt, "prompt", required: true);
        CharacterRequests.RequireText(request.NegativePrompt, "negative_prompt", required: false);
        CharacterRequests.RequireRequestId(request.ClientRequestId, "client_request_id");
        if (!options.UserModels.TryGetValue(request.User, out var model))
            throw CharacterRequests.NotFound("model configured for user (Characters:UserModels)", request.User);
        requests.Checkpoint(model, "user"); // the configured alias must exist
        var render = CharacterRequests.WithRequestSeed(CharacterRequests.Render(request.Render, requests.Defaults, "render"), request.Render,
            request.ClientRequestId);
        var started = Stopwatch.GetTimestamp();
        var workflow = workflows.UserImage(SafeFolderName(request.User), model, request.Prompt, request.NegativePrompt, render);
        var requestId = request.ClientRequestId.Length > 0 ? $"user/{request.User}/{request.ClientRequestId}" : null;
        var job = await runner.RunAsync(workflow, requestId, null, context.CancellationToken);
        var (image, png) = await runner.SaveImageAsync(job, workflow, StepBindings.SaveImageTitle, context.CancellationToken);
        return new GenerateResponse
        {
            Image = CharacterMapping.ToProto(image, request.InlineImages ? png : null),
            Seed = render.Seed,
            Model = model,
            GenerationTime = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(Stopwatch.GetElapsedTime(started)),
        };
    }

    /// <summary>A user name as an output subfolder: anything but letters, digits, '-' and '_' becomes '_'.</summary>
    private static string SafeFolderName(string user) =>
        new(user.Take(64).Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
}
