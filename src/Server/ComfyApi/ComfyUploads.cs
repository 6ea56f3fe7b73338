using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Nodes.Files;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// POST /upload/image and /upload/mask. The multipart body is streamed (never buffered whole) into a staging file
/// under the data folder, limited to <see cref="ComfyApiOptions.MaxUploadBytes"/> (413 beyond it), then moved
/// into place atomically. Without <c>overwrite</c>, a same-name file with identical bytes is reused, a different
/// one makes the name <c>name (1).ext</c>, <c>name (2).ext</c>, …
/// </summary>
public sealed class ComfyUploads(ComfyFiles files, ComfyApiOptions options, ILogger<ComfyUploads> logger)
{
    private const int MaxFieldBytes = 64 * 1024;
    private const int MaxRenames = 10_000;

    /// <summary>What the form carried: the staged file (if any) and the text fields.</summary>
    public sealed record Form(string? StagedPath, string? FileName, IReadOnlyDictionary<string, string> Fields);

    public string StagingFolder => Path.Combine(files.Folders.Root, Hosting.StaleFileCleanup.UploadStagingFolder);

    /// <summary>Reads the form; the caller deletes <see cref="Form.StagedPath"/> if it does not keep it.</summary>
    public async Task<(Form? Form, IResult? Error)> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = options.MaxUploadBytes;
        if (request.ContentLength > options.MaxUploadBytes) return (null, TooLarge());
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            return (null, ComfyResults.Error("Expected a multipart/form-data body."));

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? staged = null, fileName = null;
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = options.MaxUploadBytes };
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                var sectionFile = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                if (sectionFile is not null && name == "image" && staged is null)
                {
                    fileName = sectionFile;
                    staged = await StageAsync(section.Body, cancellationToken);
                }
                else if (sectionFile is null && name.Length > 0)
                {
                    fields[name] = await ReadFieldAsync(section.Body, cancellationToken);
                }
                else
                {
                    await section.Body.CopyToAsync(Stream.Null, cancellationToken);
                }
            }
            return (new Form(staged, fileName, fields), null);
        }
        catch (Exception e) when (IsTooLarge(e))
        {
            Delete(staged);
            return (null, TooLarge());
        }
        catch (InvalidDataException e)
        {
            Delete(staged);
            return (null, ComfyResults.Error($"Malformed multipart body: {e.Message}"));
        }
        catch (Exception e) when (StorageFullException.IsDiskFull(e))
        {
            Delete(staged);
            logger.LogWarning("Out of disk space while receiving an upload");
            return (null, StorageFull("input"));
        }
        catch
        {
            Delete(staged);
            throw;
        }
    }

    /// <summary>
    /// Moves the staged file to <c>type/subfolder/name</c> (renaming or reusing as ComfyUI does) and answers
    /// <c>{"name", "subfolder", "type"}</c>. Deletes the staged file unless it was moved.
    /// </summary>
    public IResult Commit(Form form, Func<string, IResult?>? transform = null)
    {
        var staged = form.StagedPath;
        try
        {
            if (staged is null || string.IsNullOrEmpty(form.FileName)) return ComfyResults.Error("The form has no 'image' file with a file name.");
            var type = form.Fields.GetValueOrDefault("type") is { Length: > 0 } t ? t : "input";
            var subfolder = form.Fields.GetValueOrDefault("subfolder") ?? "";
            if (files.Root(type) is not { } root) return ComfyResults.Error("type must be input, temp or output.");
            if (!ComfyFiles.TryResolveFolder(root, subfolder, out var folder) || !ComfyFiles.TryResolve(root, subfolder, form.FileName, out var target))
                return ComfyResults.Error("Invalid file name or subfolder.");
            if (transform?.Invoke(staged) is { } refused) return refused;

            Directory.CreateDirectory(folder);
            var overwrite = form.Fields.GetValueOrDefault("overwrite") is "true" or "1";
            var name = overwrite ? Replace(staged, target) : Place(staged, root, subfolder, form.FileName, ref target);
            if (name is null) return ComfyResults.Error("No free file name.", StatusCodes.Status409Conflict);
            return ComfyResults.Json(new JsonObject { ["name"] = name, ["subfolder"] = subfolder, ["type"] = type });
        }
        catch (IOException e) when (StorageFullException.IsDiskFull(e))
        {
            logger.LogWarning("Out of disk space while storing an upload");
            return StorageFull(form.Fields.GetValueOrDefault("type") is { Length: > 0 } t ? t : "input");
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Storing an upload failed");
            return ComfyResults.Error("The file could not be stored.", StatusCodes.Status409Conflict);
        }
        finally
        {
            Delete(staged);
        }
    }

    private static string Replace(string staged, string target)
    {
        File.Move(staged, target, overwrite: true); // rename(2): readers see the old file or the new one
        return Path.GetFileName(target);
    }

    private static string? Place(string staged, string root, string subfolder, string fileName, ref string target)
    {
        var stem = Path.GetFileNameWithoutExtension(fileName);
        var extension = Path.GetExtension(fileName);
        var name = fileName;
        for (var i = 1; i <= MaxRenames; i++)
        {
            if (!Path.Exists(target))
            {
                try
                {
                    File.Move(staged, target, overwrite: false);
                    return name;
                }
                catch (IOException) when (Path.Exists(target)) { } // another upload took the name first
            }
            if (File.Exists(target) && SameBytes(staged, target)) return name;
            name = $"{stem} ({i}){extension}";
            if (!ComfyFiles.TryResolve(root, subfolder, name, out target)) return null;
        }
        return null;
    }

    private async Task<string> StageAsync(Stream content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(StagingFolder);
        var path = Path.Combine(StagingFolder, Guid.NewGuid().ToString("N") + ".upload");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > options.MaxUploadBytes) throw new UploadTooLargeException();
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            return path;
        }
        catch
        {
            Delete(path);
            throw;
        }
    }

    private static async Task<string> ReadFieldAsync(Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes) throw new InvalidDataException($"A form field is larger than {MaxFieldBytes} bytes.");
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static bool SameBytes(string a, string b)
    {
        using var x = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var y = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (x.Length != y.Length) return false;
        var bx = new byte[64 * 1024];
        var by = new byte[64 * 1024];
        int n;
        while ((n = x.ReadAtLeast(bx, bx.Length, throwOnEndOfStream: false)) > 0)
        {
            if (y.ReadAtLeast(by, n, throwOnEndOfStream: false) != n || !bx.AsSpan(0, n).SequenceEqual(by.AsSpan(0, n))) return false;
        }
        return true;
    }

    private static bool IsTooLarge(Exception e) =>
        e is UploadTooLargeException
        || (e is BadHttpRequestException bad && bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        || (e is InvalidDataException && e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase));

    /// <summary>507 with ComfyUI's error object, naming the folder's role (never its path).</summary>
    private static IResult StorageFull(string folder) =>
        ComfyResults.PromptErrorOnly(ComfyErrorMiddleware.StorageFullType, new StorageFullException(folder).Message,
            "Free some disk space and try again.", StatusCodes.Status507InsufficientStorage);

    private IResult TooLarge() =>
        ComfyResults.Error($"The upload is larger than the limit of {options.MaxUploadBytes} bytes.", StatusCodes.Status413PayloadTooLarge);

    private static void Delete(string? path)
    {
        try { if (path is not null) File.Delete(path); }
        catch (IOException) { }
    }

    private sealed class UploadTooLargeException : Exception;
}
