namespace CharacterGen.Nodes.Files;

/// <summary>
/// A write failed because the file system holding <see cref="Folder"/> is full (ENOSPC, or a quota). Whatever was
/// being written has been removed. Transports map it to HTTP 507 / gRPC RESOURCE_EXHAUSTED; the message names the
/// folder by its role ("output", "input", "assets"), never by its path.
/// </summary>
public sealed class StorageFullException(string folder, Exception? inner = null)
    : IOException($"There is no space left to write to the {folder} folder.", inner)
{
    /// <summary>The folder's role: "output", "input", "temp", "assets", …</summary>
    public string Folder { get; } = folder;

    private const int LinuxENOSPC = 28, LinuxEDQUOT = 122;
    private const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>
    /// True for an out-of-space failure: .NET reports a Unix errno as the IOException's HResult, a Windows error as
    /// 0x8007xxxx.
    /// </summary>
    public static bool IsDiskFull(Exception e) =>
        e is StorageFullException
        || (e is IOException io && io.HResult is LinuxENOSPC or LinuxEDQUOT or WindowsDiskFull or WindowsHandleDiskFull);

    /// <summary><paramref name="e"/> as a <see cref="StorageFullException"/> for <paramref name="folder"/> when it is one, else null.</summary>
    public static StorageFullException? From(Exception e, string folder) =>
        e switch
        {
            StorageFullException full => full,
            _ when IsDiskFull(e) => new StorageFullException(folder, e),
            _ => null,
        };
}
