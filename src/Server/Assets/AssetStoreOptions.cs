namespace CharacterGen.Server.Assets;

/// <summary>Limits of the asset store. Advertised on the status page.</summary>
public sealed record AssetStoreOptions
{
    /// <summary>256 MiB: far above any image or mask, small enough that one client cannot fill a disk quickly.</summary>
    public const long DefaultMaxUploadBytes = 256L * 1024 * 1024;

    /// <summary>64 KiB per Download message: small enough to interleave with other streams, large enough to be cheap.</summary>
    public const int DefaultDownloadChunkBytes = 64 * 1024;

    public long MaxUploadBytes { get; init; } = DefaultMaxUploadBytes;

    public int DownloadChunkBytes { get; init; } = DefaultDownloadChunkBytes;

    public IEnumerable<string> Validate()
    {
        if (MaxUploadBytes <= 0) yield return $"Assets:MaxUploadBytes must be positive (got {MaxUploadBytes}).";
        if (DownloadChunkBytes is <= 0 or > 4 * 1024 * 1024)
            yield return $"Assets:DownloadChunkBytes must be between 1 and 4194304 (got {DownloadChunkBytes}).";
    }
}
