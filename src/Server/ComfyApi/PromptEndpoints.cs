using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.ComfyApi;

/// <summary>POST /prompt (validate and queue) and GET /prompt (queue size).</summary>
internal static class PromptEndpoints
{
    public static void MapPromptRoutes(this IEndpointRouteBuilder api)
    {
        api.MapPost("/prompt", PostPrompt);
        api.MapGet("/prompt", (ComfySocketHub hub) => ComfyResults.Json(ExecutionMessages.QueueInfo(hub.QueueRemaining())));
    }

    private static async Task<IResult> PostPrompt(HttpRequest request, WorkflowEngine engine, ComfyJobRelay relay)
    {
        // The prompt plus extra_data (which usually repeats the UI workflow) may be up to twice the workflow limit.
        var limits = engine.Options.Json;
        var read = await RequestBodies.ReadObjectAsync(request, limits.MaxBytes * 2, limits.MaxDepth + 2, request.HttpContext.RequestAborted);
        if (read.Body is null) return ComfyResults.PromptError("invalid_prompt", "Cannot read the request.", read.Error ?? "", read.Status);

        var prompt = PromptRequest.Read(read.Body, DateTimeOffset.UtcNow, out var failure);
        if (failure is not null) return ComfyResults.PromptError(failure.Type, failure.Message, failure.Details);
        if (engine.GetJob(prompt.PromptId) is not null)
            return ComfyResults.PromptError("invalid_prompt_id", "prompt_id is already in use", $"A prompt with id {prompt.PromptId} exists.");

        SubmitResult result;
        try { result = engine.Submit(prompt.Prompt.ToJsonString(), prompt.Options); }
        catch (ArgumentException) // the id was taken between the check and the submission
        {
            return ComfyResults.PromptError("invalid_prompt_id", "prompt_id is already in use", $"A prompt with id {prompt.PromptId} exists.");
        }

        switch (result.Status)
        {
            case SubmitStatus.Queued:
                relay.Track(result.JobId!);
                return ComfyResults.Json(new JsonObject
                {
                    ["prompt_id"] = result.JobId,
                    ["number"] = ComfyJson.Number(result.Number),
                    ["node_errors"] = result.Validation?.ToJson()["node_errors"]?.DeepClone() ?? new JsonObject(),
                });
            case SubmitStatus.QueueFull:
                // The same hint as gRPC's RetryInfo (ServerOptions.RetryAfterSeconds).
                var retryAfter = request.HttpContext.RequestServices.GetService<Hosting.ServerOptions>()?.RetryAfterSeconds
                                 ?? Hosting.ServerOptions.DefaultRetryAfterSeconds;
                request.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return ComfyResults.PromptError(SubmitResult.QueueFullErrorType, "The queue is full.",
                    $"At most {engine.Options.QueueCapacity} prompts may wait; retry when one has started.", StatusCodes.Status503ServiceUnavailable);
            default:
                return ComfyResults.Json(result.Validation!.ToJson(), StatusCodes.Status400BadRequest);
        }
    }
}
