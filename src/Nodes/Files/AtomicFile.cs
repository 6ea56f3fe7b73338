namespace CharacterGen.Nodes.Files;

/// <summary>
/// Whole-file writes that are all or nothing: the bytes go to a hidden temporary file beside the target
/// (<c>.name.&lt;guid&gt;.tmp</c>), are flushed to disk, and are renamed into place; on any failure the temporary file
/// is deleted. A reader never sees a partial file, and a crash leaves only a temporary that
/// <see cref="DeleteStaleTemporaries"/> removes at the next start.
/// </summary>
public static class AtomicFile
{
    public const string TemporarySuffix = ".tmp";

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="target"/>. Without <paramref name="overwrite"/>, returns false
    /// (writing nothing) when the target exists. Out of space → <see cref="StorageFullException"/> for <paramref name="folderRole"/>.
    /// </summary>
    public static bool Write(string target, ReadOnlySpan<byte> bytes, string folderRole, bool overwrite = false)
    {
        if (!overwrite && File.Exists(target)) return false;
        string folder = Path.GetDirectoryName(target)!;
        string temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite);
            return true;
        }
        catch (IOException e) when (!overwrite && !StorageFullException.IsDiskFull(e) && File.Exists(target))
        {
            Delete(temp); // another writer took the name between the check and the rename
            return false;
        }
        catch (Exception e)
        {
            Delete(temp);
            if (StorageFullException.From(e, folderRole) is { } full) throw full;
            throw;
        }
    }

    /// <summary>
    /// Removes the temporaries (<c>.*.tmp</c>) a killed process left in <paramref name="folder"/> and its subfolders.
    /// Call at start-up, before anything writes. Returns how many were removed.
    /// </summary>
    public static int DeleteStaleTemporaries(string folder, string pattern = ".*" + TemporarySuffix)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(folder, pattern, new EnumerationOptions
                 { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            if (Delete(file)) removed++;
        }
        return removed;
    }

    private static bool Delete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
