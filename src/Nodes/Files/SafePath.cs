namespace CharacterGen.Nodes.Files;

/// <summary>
/// Resolves a client-supplied relative name inside a root folder, refusing anything that would leave it: absolute
/// paths, `..` segments that climb out, NUL bytes, and symbolic links (anywhere along the path) whose target lies
/// outside the root. The check runs on the real paths, so a link inside the root that points elsewhere is caught.
/// </summary>
public static class SafePath
{
    public static string Resolve(string root, string relativeName)
    {
        string rootFull = Path.GetFullPath(root);
        string candidate = ResolveLexically(rootFull, relativeName);

        // Follow links along the way: the real location must be inside the real root too.
        string realRoot = RealPath(rootFull);
        string realCandidate = RealPath(candidate);
        if (!IsInside(realRoot, realCandidate)) throw new PathEscapeException($"'{relativeName}' leads outside its folder through a link");
        return candidate;
    }

    /// <summary>
    /// The name's path inside the root by its text alone (absolute names, NUL bytes and climbing `..` refused), links
    /// not followed: for folders whose links the operator placed (model folders), where a link may point anywhere.
    /// </summary>
    public static string ResolveLexically(string root, string relativeName)
    {
        if (string.IsNullOrWhiteSpace(relativeName)) throw new PathEscapeException("empty file name");
        if (relativeName.Contains('\0')) throw new PathEscapeException("file name contains a NUL byte");
        string normalisedName = relativeName.Replace('\\', '/');
        if (Path.IsPathRooted(normalisedName) || normalisedName.StartsWith('~'))
            throw new PathEscapeException($"'{relativeName}' is an absolute path; give a name relative to its folder");

        string rootFull = Path.GetFullPath(root);
        string candidate = Path.GetFullPath(Path.Combine(rootFull, normalisedName));
        if (!IsInside(rootFull, candidate)) throw new PathEscapeException($"'{relativeName}' leaves its folder");
        return candidate;
    }

    /// <summary>True when the name resolves inside the root (no exception).</summary>
    public static bool TryResolve(string root, string relativeName, out string fullPath)
    {
        try
        {
            fullPath = Resolve(root, relativeName);
            return true;
        }
        catch (PathEscapeException)
        {
            fullPath = "";
            return false;
        }
    }

    private static bool IsInside(string root, string path)
    {
        string r = Path.TrimEndingDirectorySeparator(root);
        return path.Length > r.Length
            ? path.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            : string.Equals(path, r, StringComparison.Ordinal);
    }

    /// <summary>The path with every symbolic link along it resolved (components that do not exist yet are kept).</summary>
    public static string RealPath(string fullPath)
    {
        string? existing = fullPath;
        var tail = new Stack<string>();
        while (existing is not null && !Path.Exists(existing))
        {
            tail.Push(Path.GetFileName(existing));
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null) return fullPath;

        string resolved = ResolveExisting(existing);
        foreach (string part in tail) resolved = Path.Combine(resolved, part);
        return resolved;
    }

    private static string ResolveExisting(string path)
    {
        string? parent = Path.GetDirectoryName(path);
        string current = parent is null ? path : Path.Combine(ResolveExisting(parent), Path.GetFileName(path));
        for (int hops = 0; hops < 40; hops++)
        {
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is null) return current;
            string target = info.LinkTarget;
            current = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(Path.GetDirectoryName(current)!, target));
            string? p = Path.GetDirectoryName(current);
            if (p is not null) current = Path.Combine(ResolveExisting(p), Path.GetFileName(current));
        }
        throw new PathEscapeException("too many levels of symbolic links");
    }
}
