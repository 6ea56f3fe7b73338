using System.Buffers.Binary;
using System.Text;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Server.Tests.Cli;

/// <summary>`charactergen inspect`: a summary for good files; one line naming the problem, and exit 1, for bad ones.</summary>
public sealed class InspectCommandTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "cg-inspect-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task SummarisesTensorsDTypesMetadataAndFamily()
    {
        string path = Path.Combine(_dir, "tiny.safetensors");
        SafetensorsWriter.Write(path,
        [
            new SafetensorsTensorData("model.diffusion_model.input_blocks.0.0.weight", SafetensorsDType.F16, [2, 2], new byte[8]),
            new SafetensorsTensorData("cond_stage_model.transformer.text_model.final_layer_norm.weight", SafetensorsDType.F32, [2], new byte[8]),
        ], new Dictionary<string, string> { ["config"] = "{\"family\":\"sd15\"}" });
        var (exit, stdout, stderr) = await CliRunner.RunAsync("inspect", path);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("tensors   2"));
        Assert.That(stdout, Does.Contain("F16 ×1").And.Contain("F32 ×1"));
        Assert.That(stdout, Does.Contain("bytes     16 "));
        Assert.That(stdout, Does.Contain("Stable Diffusion 1.x"));
        Assert.That(stdout, Does.Contain("config: {\"family\":\"sd15\"}"));
    }

    public static IEnumerable<TestCaseData> Malformed()
    {
        yield return Case("empty file", [], "empty");
        yield return Case("truncated data", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "truncated");
        yield return Case("header length beyond the file", Prefix(500, "{}"), "past the end");
        yield return Case("200 MB header claim", Prefix(200_000_000, "{}"), "100");
        yield return Case("overlapping offsets",
            File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "'b'");
        yield return Case("gap between tensors",
            File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "'b'");
        yield return Case("unknown dtype", File("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16), "F128");
        yield return Case("duplicate names",
            File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "duplicate");
        yield return Case("non-UTF-8 header", Raw([0x7B, 0xFF, 0xFE, 0x7D]), "UTF-8");
        yield return Case("non-JSON header", File("{not json at all}", 0), "JSON");
        yield return Case("shape not matching the byte span", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "'a'");
        yield return Case("shape whose size overflows",
            File("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,8]}}", 8), "overflow");
    }

    [TestCaseSource(nameof(Malformed))]
    public async Task RefusesMalformedFilesWithOneLineNamingTheProblem(byte[] content, string mustMention)
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        await System.IO.File.WriteAllBytesAsync(path, content);
        var (exit, stdout, stderr) = await CliRunner.RunAsync("inspect", path);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Is.Empty);
        string line = stderr.TrimEnd();
        Assert.That(line.Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        Assert.That(line, Does.StartWith("charactergen inspect: bad.safetensors: "));
        Assert.That(line, Does.Contain(mustMention).IgnoreCase);
        Assert.That(line, Does.Not.Match(@"\bat [\w.]+\(").And.Not.Contain(_dir), "no stack frames or directory paths");
    }

    [Test]
    public async Task MissingFileAndPickleCheckpointAreRefusedClearly()
    {
        var (exit, _, stderr) = await CliRunner.RunAsync("inspect", Path.Combine(_dir, "nope.safetensors"));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr.Trim(), Is.EqualTo("charactergen inspect: nope.safetensors: no such file"));

        string ckpt = Path.Combine(_dir, "model.ckpt");
        await System.IO.File.WriteAllBytesAsync(ckpt, [0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E]);
        (exit, _, stderr) = await CliRunner.RunAsync("inspect", ckpt);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("safetensors").IgnoreCase.And.Contain("convert").IgnoreCase);
    }

    [Test]
    public async Task VersionReportsLibtorchAndThreads()
    {
        var (exit, stdout, _) = await CliRunner.RunAsync("version");
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(stdout, Does.Match(@"CharacterGen \d+\.\d+\.\d+"));
        Assert.That(stdout, Does.Contain($"libtorch {Torch.LibTorchVersion}"));
        Assert.That(stdout, Does.Contain($"threads {Environment.ProcessorCount}"));
        Assert.That(stdout, Does.Match("cuda (none|\\d+ device)"));
    }

    private static TestCaseData Case(string name, byte[] content, string mention) =>
        new TestCaseData(content, mention).SetArgDisplayNames(name);

    private static byte[] File(string header, int dataBytes)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    private static byte[] Raw(byte[] header) => [.. File("", 0)[..0], .. BitConverter.GetBytes((ulong)header.Length), .. header];

    private static byte[] Prefix(ulong claimedLength, string header)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength);
        h.CopyTo(bytes, 8);
        return bytes;
    }
}
