using System.Text.RegularExpressions;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Files;
using CharacterGen.Server.ComfyApi;

namespace CharacterGen.Server.Tests.ComfyApi.Support;

/// <summary>
/// Test nodes standing in for the SD nodes (which land later), with per-server state so every test owns its data:
/// a SaveImage-like output node that writes real PNGs into the output folder with ComfyUI's naming, a node that
/// reports progress with preview images, a gate for blocking a node deterministically, and one that throws.
/// </summary>
public sealed class ComfyTestNodes : IDisposable
{
    private int _executions;

    /// <summary>Set when a Blocker (or a Steps node with wait=true, after its first step) is inside its call.</summary>
    public SemaphoreSlim Entered { get; } = new(0);
    /// <summary>Blocker / waiting Steps nodes go on once this is set.</summary>
    public ManualResetEventSlim Gate { get; } = new();

    /// <summary>Node calls so far (cached nodes do not count).</summary>
    public int Executions => Volatile.Read(ref _executions);

    public NodeCatalog Catalog { get; }

    public ComfyTestNodes() => Catalog = new NodeCatalog(Build());

    /// <summary>A 2x2 RGBA preview PNG (what a sampler's latent preview would send).</summary>
    public static byte[] PreviewPng { get; } = TestPng.Create(2, 2, 10, 20, 30, 255);

    private IEnumerable<NodeDefinition> Build()
    {
        yield return new NodeBuilder("Const").Category("test")
            .Required(InputSpec.Int("value", 0, -1000, 1000))
            .Output(IoTypes.Int, "INT")
            .Execute((_, i) => Count(NodeOutput.Of(i.Get<long>("value"))))
            .Build();

        yield return new NodeBuilder("Add").Category("test")
            .Required(InputSpec.Link("a", IoTypes.Int))
            .Required(InputSpec.Link("b", IoTypes.Int))
            .Output(IoTypes.Int, "INT")
            .Execute((_, i) => Count(NodeOutput.Of((long)i["a"]! + (long)i["b"]!)))
            .Build();

        // Reports `steps` progress ticks with a PNG preview each; with wait=true it blocks on Gate after the first.
        yield return new NodeBuilder("Steps").Category("test")
            .Required(InputSpec.Link("value", IoTypes.Int))
            .Required(InputSpec.Int("steps", 3, 1, 100000))
            .Optional(InputSpec.Boolean("wait", false))
            .Output(IoTypes.Int, "INT")
            .Execute((ctx, i) =>
            {
                var steps = i.Get<long>("steps");
                for (var s = 1; s <= steps; s++)
                {
                    ctx.ReportProgress(s, steps, PreviewPng);
                    if (s == 1 && i.GetOrDefault("wait", false))
                    {
                        Entered.Release();
                        Gate.Wait(ctx.CancellationToken);
                    }
                }
                return Count(NodeOutput.Of(i["value"]));
            })
            .Build();

        // An output node with a large ui (every executed message is one that cannot be dropped), to flood a client.
        yield return new NodeBuilder("BigUi").Category("test").OutputNode()
            .Required(InputSpec.Link("value", IoTypes.Int))
            .Required(InputSpec.Int("bytes", 1024, 1, 16 * 1024 * 1024))
            .Required(InputSpec.Int("tag", 0))
            .Execute((_, i) => Count(NodeOutput.WithUi(new Dictionary<string, object?>
            {
                ["text"] = new List<object?> { new string('x', (int)i.Get<long>("bytes")) },
            })))
            .Build();

        yield return new NodeBuilder("Blocker").Category("test")
            .Required(InputSpec.Link("value", IoTypes.Int))
            .Optional(InputSpec.Int("tag", 0))
            .Output(IoTypes.Int, "INT")
            .Execute((ctx, i) =>
            {
                Entered.Release();
                Gate.Wait(ctx.CancellationToken);
                return Count(NodeOutput.Of(i["value"]));
            })
            .Build();

        yield return new NodeBuilder("Throw").Category("test")
            .Required(InputSpec.Link("value", IoTypes.Int))
            .Output(IoTypes.Int, "INT")
            .Execute((_, _) => throw new InvalidOperationException("boom reading /srv/secret/models/x.safetensors"))
            .Build();

        // ComfyUI's SaveImage naming: "{prefix}_{counter:05}_.png", counter = 1 + the highest for that prefix.
        yield return new NodeBuilder("TestSaveImage").Category("test").OutputNode()
            .Required(InputSpec.Link("images", IoTypes.Int))
            .Required(InputSpec.String("filename_prefix", "ComfyUI"))
            .Execute((ctx, i) =>
            {
                var folder = ctx.GetRequiredService<DataFolders>().Output;
                var prefix = i.Get<string>("filename_prefix");
                Directory.CreateDirectory(folder);
                var pattern = new Regex("^" + Regex.Escape(prefix) + @"_(\d{5})_\.png$");
                var counter = Directory.EnumerateFiles(folder).Select(f => pattern.Match(Path.GetFileName(f)))
                    .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max() + 1;
                var name = $"{prefix}_{counter:D5}_.png";
                var value = (long)i["images"]!;
                File.WriteAllBytes(Path.Combine(folder, name), TestPng.Create(1, 1, (byte)value, 0, 0, 255, ("value", value.ToString())));
                var image = new Dictionary<string, object?> { ["filename"] = name, ["subfolder"] = "", ["type"] = "output" };
                return Count(NodeOutput.WithUi(new Dictionary<string, object?> { ["images"] = new List<object?> { image } }));
            })
            .Build();
    }

    private NodeOutput Count(NodeOutput output)
    {
        Interlocked.Increment(ref _executions);
        return output;
    }

    public void Dispose()
    {
        Gate.Set();
        Gate.Dispose();
        Entered.Dispose();
    }
}

/// <summary>Real PNG files for tests, written by the server's own encoder and read back through libvips.</summary>
internal static class TestPng
{
    /// <summary>An image as RGBA pixels with its PNG text chunks.</summary>
    public sealed record Rgba(int Width, int Height, byte[] Pixels, IReadOnlyList<(string Keyword, string Text)> Text);

    public static byte[] Create(int width, int height, byte r, byte g, byte b, byte a, params (string Keyword, string Text)[] text)
    {
        var pixels = new byte[width * height * 4];
        for (var p = 0; p < pixels.Length; p += 4) (pixels[p], pixels[p + 1], pixels[p + 2], pixels[p + 3]) = (r, g, b, a);
        return PngWriter.Encode(new DecodedImage(width, height, 4, pixels), text.Select(t => KeyValuePair.Create(t.Keyword, t.Text)));
    }

    public static Rgba Decode(byte[] png)
    {
        var image = ImageDecoder.Decode(png).ToRgba();
        return new Rgba(image.Width, image.Height, image.Pixels, PngText.Read(png).Select(t => (t.Key, t.Value)).ToList());
    }
}
