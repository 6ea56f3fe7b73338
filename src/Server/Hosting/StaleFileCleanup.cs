using CharacterGen.Nodes.Files;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// Start-up removal of what a killed process left half-written in the data folder: the HTTP upload staging files
/// (<c>.upload-staging/*.upload</c>) and the hidden temporaries of atomic writes (<c>.name.guid.tmp</c> in input/,
/// output/ and temp/). Runs before the server listens, so no live upload or save can be caught by it. The asset
/// store cleans its own <c>.tmp</c> folder when it is created.
/// </summary>
public static class StaleFileCleanup
{
    public const string UploadStagingFolder = ".upload-staging";

    /// <summary>Returns how many files were removed.</summary>
    public static int Run(string dataDir)
    {
        var folders = new DataFolders(dataDir);
        var removed = AtomicFile.DeleteStaleTemporaries(Path.Combine(folders.Root, UploadStagingFolder), "*.upload");
        foreach (var folder in new[] { folders.Input, folders.Output, folders.Temp })
            removed += AtomicFile.DeleteStaleTemporaries(folder);
        return removed;
    }
}
