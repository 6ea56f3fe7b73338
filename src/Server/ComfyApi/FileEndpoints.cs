using CharacterGen.Diffusion.Imaging;
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
    };

    public static void MapFileRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/view", View);
        api.MapPost("/upload/image", UploadImage);
        api.MapPost("/upload/mask", UploadMask);
    }

    /// <summary>
    /// The file's bytes. <c>channel=rgb</c> (alpha dropped) and <c>channel=a</c> (only the alpha) are applied to PNG
    /// files; <c>preview=webp|jpeg;q</c> is accepted and ignored (no WebP/JPEG encoder yet): the original is served.
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
        if (query["channel"].ToString() is "rgb" or "a" && Channel(found.Path, query["channel"].ToString()) is { } converted)
            return Results.File(converted, "image/png");
        return Results.File(found.Path, safe ? contentType : "application/octet-stream", enableRangeProcessing: true);
    }

    /// <summary>ComfyUI's channel views of an image, as PNG: rgb = opaque colour, a = black with the source alpha. Null when not a readable image.</summary>
    private static byte[]? Channel(string path, string channel)
    {
        try
        {
            var image = ImageDecoder.Decode(File.ReadAllBytes(path), MaskComposer.MaxPixels).ToRgba();
            var pixels = image.Pixels;
            for (var i = 0; i < pixels.Length; i += 4)
            {
                if (channel == "rgb") pixels[i + 3] = 255;
                else pixels[i] = pixels[i + 1] = pixels[i + 2] = 0;
            }
            return PngWriter.Encode(image);
        }
        catch (ImageDecodeException)
        {
            return null;
        }
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
