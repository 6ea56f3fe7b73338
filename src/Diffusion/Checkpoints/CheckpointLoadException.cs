namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>A weights file does not fit the network built for it: keys missing or of the wrong shape.</summary>
public sealed class CheckpointLoadException : Exception
{
    public CheckpointLoadException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> mismatched)
        : base(message)
    {
        Missing = missing;
        Mismatched = mismatched;
    }

    public CheckpointLoadException(string message, Exception? inner = null) : base(message, inner)
    {
        Missing = [];
        Mismatched = [];
    }

    /// <summary>Keys the network needs and the file lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>"key: file [..] vs expected [..]" for each key of the wrong shape.</summary>
    public IReadOnlyList<string> Mismatched { get; }
}
