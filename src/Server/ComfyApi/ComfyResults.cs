using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CharacterGen.Server.ComfyApi;

/// <summary>Responses in ComfyUI's shapes: JSON written with its exact field names, and its error objects.</summary>
internal static class ComfyResults
{
    public static IResult Json(JsonNode node, int statusCode = StatusCodes.Status200OK) =>
        Results.Content(node.ToJsonString(), "application/json; charset=utf-8", Encoding.UTF8, statusCode);

    /// <summary>ComfyUI answers most control routes with an empty 200.</summary>
    public static IResult Ok() => Results.Ok();

    /// <summary>POST /prompt's error body: <c>{"error": {type, message, details, extra_info}, "node_errors": {}}</c>.</summary>
    public static IResult PromptError(string type, string message, string details, int statusCode = StatusCodes.Status400BadRequest) =>
        Json(new JsonObject
        {
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["details"] = details, ["extra_info"] = new JsonObject() },
            ["node_errors"] = new JsonObject(),
        }, statusCode);

    /// <summary>ComfyUI's error object alone: <c>{"error": {type, message, details, extra_info}}</c> (507, 413, ...).</summary>
    public static IResult PromptErrorOnly(string type, string message, string details, int statusCode) =>
        Json(new JsonObject
        {
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["details"] = details, ["extra_info"] = new JsonObject() },
        }, statusCode);

    /// <summary>The jobs API's and our own errors: <c>{"error": "message"}</c>.</summary>
    public static IResult Error(string message, int statusCode = StatusCodes.Status400BadRequest) =>
        Json(new JsonObject { ["error"] = message }, statusCode);
}

/// <summary>Reads a JSON request body within a size and depth limit.</summary>
internal static class RequestBodies
{
    /// <summary>Bodies of the small control routes (queue, history, interrupt, free).</summary>
    public const long ControlBodyBytes = 1024 * 1024;

    /// <summary>The body, or why not; <see cref="Status"/> is 413 for a body over the limit, 400 otherwise.</summary>
    public sealed record Parsed(JsonObject? Body, string? Error, int Status = StatusCodes.Status400BadRequest);

    /// <summary>The body as a JSON object; an empty body reads as <c>{}</c>.</summary>
    /// One limit whatever the transfer encoding: a declared Content-Length over <paramref name="maxBytes"/> and a
    /// chunked body that grows past it both give 413 (Kestrel's own cap is lifted to the same limit).
    public static async Task<Parsed> ReadObjectAsync(HttpRequest request, long maxBytes, int maxDepth, CancellationToken cancellationToken)
    {
        var tooLarge = new Parsed(null, $"The request body is larger than {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        if (request.ContentLength > maxBytes) return tooLarge;
        var chunk = new byte[16 * 1024];
        // Kestrel's cap sits one read above ours, so the check below answers first, with the same message.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = maxBytes + chunk.Length;
        using var buffer = new MemoryStream();
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes) return tooLarge;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return tooLarge;
        }
        if (buffer.Length == 0) return new(new JsonObject(), null);
        try
        {
            var node = JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length),
                documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
            return node is JsonObject obj ? new(obj, null) : new(null, "The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            return new(null, $"The request body is not valid JSON: {e.Message}");
        }
    }
}
