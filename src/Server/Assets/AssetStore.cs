using System.Text.Json;

namespace CharacterGen.Server.Assets;

/// <summary>
/// Content-addressed file store under one root: <c>&lt;root&gt;/&lt;id[0:2]&gt;/&lt;id&gt;</c> holds the bytes and
/// <c>&lt;id&gt;.json</c> the first upload's metadata. Uploads are written to <c>&lt;root&gt;/.tmp</c> and renamed
/// into place, so a reader never sees a partial file. Transport-free: the gRPC Assets service and the
/// HTTP upload route both use it.
/// </summary>
public sealed class AssetStore
{
    private const string TempFolder = ".tmp";
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly TimeProvider _time;
    private readonly Lock _commitLock = new();

    public AssetStore(string root, AssetStoreOptions options, TimeProvider? time = null)
    {
        Root = Path.GetFullPath(root);
        Options = options;
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(Path.Combine(Root, TempFolder));
    }

    public string Root { get; }

    public AssetStoreOptions Options { get; }

    /// <summary>Removes temp files left by a previous process that died mid-upload. Call once at start-up.</summary>
    public int DeleteStaleUploads()
    {
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, TempFolder)))
        {
            File.Delete(file);
            deleted++;
        }
        return deleted;
    }

    public AssetUpload BeginUpload(AssetMetadata metadata) =>
        new(this, Path.Combine(Root, TempFolder, $"{Guid.NewGuid():N}.upload"), metadata, Options.MaxUploadBytes);

    /// <summary>Stores a whole stream (the HTTP upload route's entry point).</summary>
    public async Task<AssetSaveResult> SaveAsync(Stream content, AssetMetadata metadata, CancellationToken cancellationToken = default)
    {
        await using var upload = BeginUpload(metadata);
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            await upload.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        return await upload.CommitAsync(cancellationToken);
    }

    public StoredAsset? Find(AssetId id)
    {
        var content = new FileInfo(ContentPath(id));
        if (!content.Exists) return null;
        var sidecar = ReadSidecar(id);
        return new StoredAsset(
            id,
            content.Length,
            sidecar is null ? AssetMetadata.None : new AssetMetadata(sidecar.FileName, sidecar.ContentType),
            sidecar?.CreatedAt ?? new DateTimeOffset(content.LastWriteTimeUtc, TimeSpan.Zero));
    }

    /// <summary>The asset's bytes, or null if there is no such asset.</summary>
    public Stream? OpenRead(AssetId id)
    {
        try
        {
            return new FileStream(ContentPath(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    internal AssetSaveResult Commit(string tempPath, AssetId id, AssetMetadata metadata)
    {
        var target = ContentPath(id);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        bool alreadyStored;
        // File.Move(overwrite: false) checks, then renames: not atomic. The lock makes "already
        // stored" exact within this process; between processes sharing a data folder the worst case
        // is that identical bytes replace identical bytes.
        lock (_commitLock)
        {
            alreadyStored = File.Exists(target);
            if (alreadyStored) File.Delete(tempPath);
            else File.Move(tempPath, target, overwrite: true);
            // The first upload's metadata wins (also repairs a sidecar lost to a crash).
            if (!File.Exists(SidecarPath(id)))
                WriteSidecar(id, new Sidecar(metadata.FileName, metadata.ContentType, _time.GetUtcNow()));
        }
        return new AssetSaveResult(Find(id) ?? throw new IOException("A committed asset vanished."), alreadyStored);
    }

    private string ContentPath(AssetId id) => Path.Combine(Root, id.Shard, id.Value);

    private string SidecarPath(AssetId id) => Path.Combine(Root, id.Shard, id.Value + ".json");

    private Sidecar? ReadSidecar(AssetId id)
    {
        try
        {
            return JsonSerializer.Deserialize<Sidecar>(File.ReadAllBytes(SidecarPath(id)), JsonOptions);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null; // metadata is best effort; the bytes are what matter
        }
    }

    private void WriteSidecar(AssetId id, Sidecar sidecar)
    {
        var temp = Path.Combine(Root, TempFolder, $"{Guid.NewGuid():N}.json");
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(sidecar, JsonOptions));
        File.Move(temp, SidecarPath(id), overwrite: true);
    }

    private sealed record Sidecar(string FileName, string ContentType, DateTimeOffset CreatedAt);
}
