using CharacterGen.Nodes.Files;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>The server's saved-workflows folder (ServerOptions.WorkflowsDir): names resolve only inside it.</summary>
public sealed class SavedWorkflows(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Reads "name" or "name.json" (a relative name, "/"-separated subfolders allowed).</summary>
    /// <exception cref="PathEscapeException">The name is absolute, climbs out, or leads out through a link.</exception>
    /// <exception cref="FileNotFoundException">No such saved workflow (the message names no path).</exception>
    /// <exception cref="SavedWorkflowTooLargeException">The file is larger than <paramref name="maxBytes"/>.</exception>
    public async Task<string> ReadAsync(string name, long maxBytes, CancellationToken cancellationToken)
    {
        var fileName = name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? name : name + ".json";
        var path = SafePath.Resolve(Root, fileName);
        var file = new FileInfo(path);
        if (!file.Exists) throw new FileNotFoundException($"No saved workflow named '{name}'.");
        if (file.Length > maxBytes) throw new SavedWorkflowTooLargeException($"Saved workflow '{name}' is larger than {maxBytes} bytes.");
        return await File.ReadAllTextAsync(path, cancellationToken);
    }
}

public sealed class SavedWorkflowTooLargeException(string message) : Exception(message);
