namespace CharacterGen.Diffusion.Text;

/// <summary>The files a tokenizer is read from, and how to read them (callers may cache by the files' state).</summary>
/// <param name="Folder">The folder the files are in.</param>
/// <param name="Files">Every file whose change means the tokenizer must be read again.</param>
/// <param name="Load">Reads the tokenizer.</param>
public sealed record TokenizerSource(string Folder, IReadOnlyList<string> Files, Func<ClipTokenizer> Load);

/// <summary>
/// Where a checkpoint's CLIP tokenizer comes from: a sibling folder <c>NAME.tokenizer/</c> (vocab.json + merges.txt)
/// wins; otherwise the shared one in <c>models/text_encoders/clip_tokenizer/</c>.
/// </summary>
public static class CheckpointTokenizer
{
    /// <summary><c>checkpoints/NAME.safetensors</c> → <c>checkpoints/NAME.tokenizer</c>.</summary>
    public static string SiblingFolder(string checkpointPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, Path.GetFileNameWithoutExtension(checkpointPath) + ".tokenizer");

    /// <summary>
    /// The source for <paramref name="checkpointPath"/>. Its <see cref="TokenizerSource.Load"/> throws
    /// <see cref="TokenizerFilesNotFoundException"/> naming both places when neither has the files.
    /// </summary>
    public static TokenizerSource Locate(string checkpointPath, string modelsRoot)
    {
        string sibling = SiblingFolder(checkpointPath);
        string vocab = Path.Combine(sibling, ClipTokenizer.VocabFileName), merges = Path.Combine(sibling, ClipTokenizer.MergesFileName);
        if (File.Exists(vocab) && File.Exists(merges))
            return new TokenizerSource(sibling, [vocab, merges], () => ClipTokenizer.FromHuggingFaceFiles(vocab, merges));

        string shared = Path.GetFullPath(Path.Combine(modelsRoot, ClipTokenizer.ModelsSubfolder));
        string[] files = [Path.Combine(shared, ClipTokenizer.VocabFileName), Path.Combine(shared, ClipTokenizer.MergesFileName),
            Path.Combine(shared, ClipTokenizer.BpeMergesFileName)];
        return new TokenizerSource(shared, files, () =>
        {
            try
            {
                return ClipTokenizer.FromModelsFolder(modelsRoot);
            }
            catch (TokenizerFilesNotFoundException e)
            {
                throw new TokenizerFilesNotFoundException(e.Folder,
                    $"no CLIP tokenizer for '{Path.GetFileName(checkpointPath)}': put {ClipTokenizer.VocabFileName} and " +
                    $"{ClipTokenizer.MergesFileName} in {sibling}{Path.DirectorySeparatorChar} (this checkpoint only), or in " +
                    $"{shared}{Path.DirectorySeparatorChar} ({ClipTokenizer.VocabFileName} + {ClipTokenizer.MergesFileName}, " +
                    $"or {ClipTokenizer.BpeMergesFileName}) for every checkpoint");
            }
        });
    }

    /// <summary>Reads the tokenizer for <paramref name="checkpointPath"/> (no caching).</summary>
    public static ClipTokenizer Load(string checkpointPath, string modelsRoot) => Locate(checkpointPath, modelsRoot).Load();
}
