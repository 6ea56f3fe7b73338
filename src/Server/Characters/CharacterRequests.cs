using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Grpc.Core;

namespace CharacterGen.Server.Characters;

/// <summary>Request checks shared by the Characters calls: each throws INVALID_ARGUMENT naming the field.</summary>
public sealed class CharacterRequests(CharacterOptions options, ModelFolders models, ModelAliases aliases)
{
    public static void RequireId(string value, string field)
    {
        if (value.Length == 0) RpcErrors.ThrowInvalidArgument(field, "must not be empty");
        if (value.Length > 64) RpcErrors.ThrowInvalidArgument(field, "must be at most 64 characters");
    }

    public static void RequireText(string value, string field, bool required)
    {
        if (required && string.IsNullOrWhiteSpace(value)) RpcErrors.ThrowInvalidArgument(field, "must not be empty");
        if (value.Length > CharacterLimits.MaxTextLength)
            RpcErrors.ThrowInvalidArgument(field, $"must be at most {CharacterLimits.MaxTextLength} characters");
    }

    /// <summary>A trigger word is one caption token's worth of text: no spaces or commas, which would split it.</summary>
    public static void RequireTriggerWord(string value, string field)
    {
        if (value.Length > CharacterLimits.MaxTriggerWordLength)
            RpcErrors.ThrowInvalidArgument(field, $"must be at most {CharacterLimits.MaxTriggerWordLength} characters");
        if (!value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            RpcErrors.ThrowInvalidArgument(field, "may hold only letters, digits, '_' and '-' (one word)");
    }

    public static void RequireRequestId(string value, string field)
    {
        if (value.Length > CharacterLimits.MaxClientRequestIdLength)
            RpcErrors.ThrowInvalidArgument(field, $"must be at most {CharacterLimits.MaxClientRequestIdLength} characters");
    }

    public static void RequireFraction(double value, string field)
    {
        if (!(value >= 0 && value <= 1)) RpcErrors.ThrowInvalidArgument(field, "must be between 0 and 1 (0 = the default)");
    }

    /// <summary>The checkpoint to use: the request's, else the deployment's; it must be a checkpoint file or a model alias.</summary>
    public string Checkpoint(string requested, string field)
    {
        var name = requested.Length > 0 ? requested : options.Checkpoint;
        if (name.Length == 0) RpcErrors.ThrowInvalidArgument(field, "must name a checkpoint (the server has no Characters:Checkpoint default)");
        if (!aliases.TryGet(name, out _) && !models.List("checkpoints").Contains(name))
            RpcErrors.ThrowInvalidArgument(field, $"'{name}' is neither a checkpoint in {models.SearchedText("checkpoints")} nor a model alias");
        return name;
    }

    /// <summary>Render settings from the request over <paramref name="defaults"/>; a missing or -1 seed becomes a random one.</summary>
    public static RenderParameters Render(RenderSettings? request, RenderDefaults defaults, string field)
    {
        request ??= new RenderSettings();
        if (request.Width is < 0 or > 8192 || request.Width % 8 != 0) RpcErrors.ThrowInvalidArgument($"{field}.width", "must be a multiple of 8 up to 8192 (0 = the default)");
        if (request.Height is < 0 or > 8192 || request.Height % 8 != 0) RpcErrors.ThrowInvalidArgument($"{field}.height", "must be a multiple of 8 up to 8192 (0 = the default)");
        if (request.Steps is < 0 or > 10000) RpcErrors.ThrowInvalidArgument($"{field}.steps", "must be between 1 and 10000 (0 = the default)");
        if (!(request.Cfg >= 0 && request.Cfg <= 100)) RpcErrors.ThrowInvalidArgument($"{field}.cfg", "must be between 0 and 100 (0 = the default)");
        if (request.Seed is < -1) RpcErrors.ThrowInvalidArgument($"{field}.seed", "must be -1 (random) or a seed of at least 0");
        return new RenderParameters(
            request.Width > 0 ? request.Width : defaults.Width,
            request.Height > 0 ? request.Height : defaults.Height,
            request.Steps > 0 ? request.Steps : defaults.Steps,
            request.Cfg > 0 ? request.Cfg : defaults.Cfg,
            request.Seed is { } seed && seed >= 0 ? seed : RandomSeed());
    }

    /// <summary>
    /// For a call with a client request id and no seed: a seed derived from the id, so a retry that finds the first
    /// attempt's job reports the seed that job used.
    /// </summary>
    public static RenderParameters WithRequestSeed(RenderParameters render, RenderSettings? request, string requestId) =>
        requestId.Length == 0 || request?.Seed is >= 0
            ? render
            : render with { Seed = BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requestId))) & ((1L << 53) - 1) };

    /// <summary>Seeds stay below 2^53 so JSON clients (JavaScript numbers) read them exactly.</summary>
    public static long RandomSeed() => Random.Shared.NextInt64(0, 1L << 53);

    public RenderDefaults Defaults => new(options.Width, options.Height, options.Steps, options.Cfg);

    /// <summary>An actor name is a folder name under the data folder: letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    public static void RequireActor(string actor)
    {
        if (actor.Length is 0 or > 64 || actor[0] == '.' || !actor.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
            RpcErrors.ThrowInvalidArgument("actor", "must be 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    }

    public static RpcException NotFound(string what, string id) =>
        RpcErrors.NotFound($"No {what} '{(id.Length <= 64 ? id : id[..64] + "...")}'.");

    /// <summary>FAILED_PRECONDITION naming the current state and the states the call needs.</summary>
    public static RpcException WrongState(CharacterRecord c, string call, params CharacterStatus[] allowed) =>
        RpcErrors.WithDetails(StatusCode.FailedPrecondition,
            $"Character {c.Id} is in state {c.Status.Name()}; {call} needs {string.Join(" or ", allowed.Select(s => s.Name()))}.",
            new Google.Rpc.ErrorInfo { Reason = "CHARACTER_STATE", Domain = RpcErrors.Domain, Metadata = { ["state"] = c.Status.Name() } });
}
