using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Tensors;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// POST /interrupt and POST /free. There is no global interrupt flag: an interrupt stops one job, the one named
/// by <c>prompt_id</c> if it is running, otherwise the job running now; it can never hit a job that starts later.
/// </summary>
internal static class ControlEndpoints
{
    public static void MapControlRoutes(this IEndpointRouteBuilder api)
    {
        api.MapPost("/interrupt", Interrupt);
        api.MapPost("/free", Free);
    }

    private static async Task<IResult> Interrupt(HttpRequest request, WorkflowEngine engine, ILogger<ComfySocketHub> logger)
    {
        var read = await RequestBodies.ReadObjectAsync(request, RequestBodies.ControlBodyBytes, 16, request.HttpContext.RequestAborted);
        var promptId = ComfyJson.String(read.Body, "prompt_id"); // an unreadable body is a plain interrupt, as in ComfyUI
        var queue = engine.Queue; // with a shared queue, several jobs may be running (on different nodes)
        var running = string.IsNullOrEmpty(promptId) ? queue.Running : queue.AllRunning.FirstOrDefault(j => j.Id == promptId);
        if (running is not null && (string.IsNullOrEmpty(promptId) || running.Id == promptId))
        {
            logger.LogInformation("Interrupting prompt {PromptId}", running.Id);
            engine.Cancel(running.Id);
        }
        return ComfyResults.Ok();
    }

    /// <summary>
    /// Both flags empty the output cache once the running job is done; <c>unload_models</c> also drops the loaded weights.
    /// Then the freed memory goes back to the system: the CUDA caching allocator's blocks and the C heap's free pages
    /// (malloc_trim), which glibc would otherwise keep. The request does not wait for that.
    /// </summary>
    private static async Task<IResult> Free(HttpRequest request, WorkflowEngine engine, ILogger<ComfySocketHub> logger)
    {
        var read = await RequestBodies.ReadObjectAsync(request, RequestBodies.ControlBodyBytes, 16, request.HttpContext.RequestAborted);
        if (read.Body is not { } body) return ComfyResults.Error(read.Error!, read.Status);
        var unload = QueueEndpoints.IsTrue(body["unload_models"]);
        if (unload || QueueEndpoints.IsTrue(body["free_memory"]))
        {
            var models = request.HttpContext.RequestServices.GetService<ModelCache>();
            _ = FreeAsync(engine, unload ? models : null).ContinueWith(t => logger.LogError(t.Exception, "Freeing memory failed"),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return ComfyResults.Ok();
    }

    /// <summary>What /free does, awaitable (tests wait for it).</summary>
    internal static async Task FreeAsync(WorkflowEngine engine, ModelCache? unloadFrom)
    {
        await engine.FreeAsync();
        unloadFrom?.Free();
        GC.Collect(); // tensors only the finalizer would release
        GC.WaitForPendingFinalizers();
        if (Cuda.IsAvailable) Cuda.EmptyCache();
        HostMemory.Trim();
    }
}
