namespace CharacterGen.Diffusion.Text;

/// <summary>The CLIP tokenizer files are not in the models folder; the message says which file to put where.</summary>
public sealed class TokenizerFilesNotFoundException(string folder, string message)
    : FileNotFoundException(message)
{
    /// <summary>The folder the files were looked for in.</summary>
    public string Folder { get; } = folder;
}
