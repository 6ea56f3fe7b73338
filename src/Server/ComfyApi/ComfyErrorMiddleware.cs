using System.Text.Json.Nodes;
using CharacterGen.Nodes.Files;
using Microsoft.AspNetCore.Connections;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// The HTTP API's last line for failures a route did not answer itself, so none becomes a bare 500:
/// <list type="bullet">
/// <item>out of disk space → 507 with a ComfyUI-style error object naming the folder's role;</item>
/// <item>a body over Kestrel's size limit (a chunked body has no Content-Length to check up front) → 413, the same
/// answer a declared oversized Content-Length gets;</item>
/// <item>the job store failing (not full) → 503, nothing queued;</item>
/// <item>a client that disconnected or reset mid-request → logged at Debug, nothing answered (nobody is listening).</item>
/// </list>
/// </summary>
public sealed class ComfyErrorMiddleware(RequestDelegate next, ILogger<ComfyErrorMiddleware> logger)
{
    public const string StorageFullType = "storage_full";
    public const string TooLargeType = "request_too_large";
    public const string StoreUnavailableType = "store_unavailable";

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (IsClientGone(context, e))
        {
            logger.LogDebug("The client went away during {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, e.Message);
        }
        catch (Exception e) when (StorageFullException.From(e, "data") is { } full)
        {
            logger.LogWarning("Out of disk space in the {Folder} folder during {Method} {Path}", full.Folder, context.Request.Method, context.Request.Path);
            await Answer(context, StatusCodes.Status507InsufficientStorage, StorageFullType, full.Message, "Free some disk space and try again.");
        }
        catch (CharacterGen.GraphRuntime.Jobs.JobStoreException e)
        {
            logger.LogError(e, "The job store failed during {Method} {Path}", context.Request.Method, context.Request.Path);
            await Answer(context, StatusCodes.Status503ServiceUnavailable, StoreUnavailableType,
                "The job store cannot take the job right now; nothing was queued.", "Retry later.");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            logger.LogInformation("Refused an oversized body on {Method} {Path}", context.Request.Method, context.Request.Path);
            await Answer(context, StatusCodes.Status413PayloadTooLarge, TooLargeType, "The request body is too large.", e.Message);
        }
    }

    /// <summary>A disconnect or reset, not a fault of ours: the request was aborted, or reading it failed because the connection died.</summary>
    internal static bool IsClientGone(HttpContext context, Exception e) =>
        e is ConnectionResetException || e.InnerException is ConnectionResetException
        || (context.RequestAborted.IsCancellationRequested
            && e is OperationCanceledException or IOException or BadHttpRequestException or System.Net.WebSockets.WebSocketException);

    /// <summary>ComfyUI's error object (<c>{"error": {type, message, details, extra_info}}</c>), unless a response has begun.</summary>
    internal static Task Answer(HttpContext context, int status, string type, string message, string details)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new JsonObject
        {
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["details"] = details, ["extra_info"] = new JsonObject() },
        };
        return context.Response.WriteAsync(body.ToJsonString());
    }
}
