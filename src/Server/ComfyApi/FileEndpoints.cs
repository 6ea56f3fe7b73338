using Microsoft.Net.Http.Headers;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// GET /view, POST /upload/image, POST /upload/mask. Files are served so that a browser never runs them: only
/// raster images, audio, video and plain data keep their type; everything else (SVG, HTML, JS, XML, …) is
/// <c>application/octet-stream</c> with <c>Content-Disposition: attachment</c>; every response carries
/// <c>X-Content-Type-Options: nosniff</c> and a sandboxing Content-Security-Policy.
/// </summary>
internal static class FileEndpoints
{
    private static readonly Dictionary<string, string> SafeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".webp"] = "image/webp",
        [".gif"] = "image/gif", [".bmp"] = "image/bmp", [".avif"] = "image/avif", [".tif"] = "image/tiff", [".tiff"] = "image/tiff",
        [".mp4"] = "video/mp4", [".webm"] = "video/webm", [".mov"] = "video/quicktime", [".mkv"] = "video/x-matroska",
        [".wav"] = "audio/wav", [".mp3"] = "audio/mpeg", [".flac"] = "audio/flac", [".ogg"] = "audio/ogg", [".opus"] = "audio/opus",
        [".m4a"] = "audio/mp4", [".json"] = "application/json", [".txt"] = "text/plain; charset=utf-8",
        [".safetensors"] = "application/octet-stream", [".latent"] = "application/octet-stream",
    };

    public static void MapFileRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/view", View);
        api.MapPost("/upload/image", UploadImage);
        api.MapPost("/upload/mask", UploadMask);
    }

    /// <summary>
    /// The file's bytes. <c>preview=</c> and <c>channel=</c> (re-encoding) are accepted and ignored until the image
    /// codecs are available to the server: the original file is served.
    /// </summary>
    private static IResult View(HttpContext context, ComfyFiles files)
    {
        var query = context.Request.Query;
        var found = files.FindExisting(query["filename"], query["subfolder"], query["type"].Count > 0 ? query["type"].ToString() : null);
        switch (found.Result)
        {
            case ComfyFiles.Lookup.Invalid: return ComfyResults.Error("Invalid filename, subfolder or type.");
            case ComfyFiles.Lookup.NotFound: return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        var safe = SafeTypes.TryGetValue(Path.GetExtension(found.FileName), out var contentType);
        var disposition = new ContentDispositionHeaderValue(safe ? "inline" : "attachment");
        disposition.SetHttpFileName(found.FileName);
        headers.ContentDisposition = disposition.ToString();
        return Results.File(found.Path, safe ? contentType : "application/octet-stream", enableRangeProcessing: true);
    }

    private static async Task<IResult> UploadImage(HttpRequest request, ComfyUploads uploads)
    {
        var (form, error) = await uploads.ReceiveAsync(request, request.HttpContext.RequestAborted);
        return error ?? uploads.Commit(form!);
    }

    private static async Task<IResult> UploadMask(HttpRequest request, ComfyUploads uploads, ComfyFiles files)
    {
        var (form, error) = await uploads.ReceiveAsync(request, request.HttpContext.RequestAborted);
        return error ?? uploads.Commit(form!, staged => MaskComposer.ApplyTo(staged, form!.Fields.GetValueOrDefault("original_ref"), files));
    }
}
