using System.Text.Json;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.Tests.Text;

/// <summary>
/// The real CLIP vocabulary (shared/models/clip, beside the repository) and the expected ids in
/// Fixtures/clip_tokenizer_cases.json, which Fixtures/clip_tokenizer_reference.py computes from that vocabulary with
/// the Python standard library only (see the script for how).
/// </summary>
internal static class ClipTestData
{
    private static readonly Lazy<ClipVocabulary> s_vocabulary = new(() => ClipVocabulary.LoadBpeMerges(BpeMergesPath));
    private static readonly Lazy<ClipTokenizer> s_comfy = new(() => new ClipTokenizer(Vocabulary, ClipTextCleanup.ComfyUI));
    private static readonly Lazy<ClipTokenizer> s_openAI = new(() => new ClipTokenizer(Vocabulary, ClipTextCleanup.OpenAI));
    private static readonly Lazy<JsonElement> s_cases = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "clip_tokenizer_cases.json"))).RootElement);

    public const int Start = 49406, End = 49407;

    public static string BpeMergesPath
    {
        get
        {
            string path = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models", "clip", ClipTokenizer.BpeMergesFileName));
            if (!File.Exists(path))
                Assert.Fail($"CLIP's vocabulary is missing: expected {path} (openai/CLIP clip/{ClipTokenizer.BpeMergesFileName}).");
            return path;
        }
    }

    /// <summary>The folder holding CharacterGen.sln, found upwards from the test binaries.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CharacterGen.sln"))) return dir.FullName;
            Assert.Fail($"no CharacterGen.sln above {TestContext.CurrentContext.TestDirectory}");
            return "";
        }
    }

    public static ClipVocabulary Vocabulary => s_vocabulary.Value;

    public static ClipTokenizer Tokenizer(ClipTextCleanup cleanup = ClipTextCleanup.ComfyUI) =>
        cleanup == ClipTextCleanup.ComfyUI ? s_comfy.Value : s_openAI.Value;

    public static JsonElement Cases(string section) => s_cases.Value.GetProperty(section);

    /// <summary>The fixture's tokenizer prompts, read without the vocabulary (so test names list even when it is missing).</summary>
    public static IEnumerable<TestCaseData> TokenizerPrompts()
    {
        string json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "clip_tokenizer_cases.json"));
        using var doc = JsonDocument.Parse(json);
        int i = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("tokenizer").EnumerateArray())
        {
            string prompt = c.GetProperty("prompt").GetString()!;
            yield return new TestCaseData(prompt, Ids(c.GetProperty("comfyui")), Ids(c.GetProperty("openai")))
                .SetArgDisplayNames($"{i++:00}").SetDescription(Shorten(prompt));
        }
    }

    public static int[] Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static string Shorten(string s)
    {
        string escaped = string.Concat(s.Select(c => char.IsControl(c) || c > 0x7E ? $"\\u{(int)c:x4}" : c.ToString()));
        return escaped.Length <= 40 ? escaped : escaped[..40] + "…";
    }
}
