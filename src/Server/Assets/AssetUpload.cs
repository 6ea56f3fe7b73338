using CharacterGen.Nodes.Files;
using System.Security.Cryptography;

namespace CharacterGen.Server.Assets;

/// <summary>
/// One upload in progress: bytes go to a temp file while being hashed; <see cref="CommitAsync"/>
/// moves the file under its hash. Disposing an uncommitted upload deletes the temp file, so a
/// cancelled or oversized upload leaves nothing behind.
/// </summary>
public sealed class AssetUpload : IAsyncDisposable
{
    private readonly AssetStore _store;
    private readonly string _tempPath;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly AssetMetadata _metadata;
    private readonly long _maxBytes;
    private bool _finished;

    internal AssetUpload(AssetStore store, string tempPath, AssetMetadata metadata, long maxBytes)
    {
        _store = store;
        _tempPath = tempPath;
        _metadata = metadata;
        _maxBytes = maxBytes;
        _file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
    }

    public long BytesWritten { get; private set; }

    /// <exception cref="AssetTooLargeException">The upload would exceed the store's limit.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (BytesWritten + chunk.Length > _maxBytes) throw new AssetTooLargeException(_maxBytes);
        _hash.AppendData(chunk.Span);
        try { await _file.WriteAsync(chunk, cancellationToken); }
        catch (IOException e) when (StorageFullException.IsDiskFull(e)) { throw new StorageFullException("assets", e); }
        BytesWritten += chunk.Length;
    }

    /// <summary>Makes the bytes durable and visible under their id (temp file, fsync, atomic rename).</summary>
    public async Task<AssetSaveResult> CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        try
        {
            await _file.FlushAsync(cancellationToken);
            _file.Flush(flushToDisk: true);
        }
        catch (IOException e) when (StorageFullException.IsDiskFull(e)) { throw new StorageFullException("assets", e); }
        await _file.DisposeAsync();
        _finished = true;
        var id = AssetId.FromSha256(_hash.GetHashAndReset());
        try { return _store.Commit(_tempPath, id, _metadata); }
        catch (IOException e) when (StorageFullException.IsDiskFull(e))
        {
            TryDelete(_tempPath);
            throw new StorageFullException("assets", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (_finished) return;
        _finished = true;
        // Closing flushes what is buffered, which fails again on a full disk; the file goes either way.
        try { await _file.DisposeAsync(); }
        catch (IOException) { }
        TryDelete(_tempPath);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
    }
}
