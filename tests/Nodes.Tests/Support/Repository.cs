namespace CharacterGen.Nodes.Tests.Support;

/// <summary>Files beside the repository: the real CLIP vocabulary in ../shared/models/clip (tests only).</summary>
internal static class Repository
{
    /// <summary>The folder holding CharacterGen.sln, found upwards from the test binaries.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CharacterGen.sln"))) return dir.FullName;
            Assert.Fail($"no CharacterGen.sln above {TestContext.CurrentContext.TestDirectory}");
            return "";
        }
    }

    /// <summary>OpenAI's bpe_simple_vocab_16e6.txt.gz; the test fails naming the path when it is missing.</summary>
    public static string ClipBpeMerges
    {
        get
        {
            string path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "models", "clip", "bpe_simple_vocab_16e6.txt.gz"));
            if (!File.Exists(path)) Assert.Fail($"CLIP's vocabulary is missing: expected {path}");
            return path;
        }
    }
}
