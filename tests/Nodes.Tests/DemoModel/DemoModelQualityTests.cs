using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.DemoModel;

/// <summary>
/// The demo model through the real loaders, CLIPTextEncode, KSampler and VAEDecode (the shipped txt2img workflow with the
/// settings scripts/demo.sh uses): pictures of "a {colour} {shape}" must show that colour and shape.
/// </summary>
[NonParallelizable]
public sealed class DemoModelQualityTests
{
    /// <summary>The workflow overrides of scripts/demo.sh, less the prompt and seed.</summary>
    public static readonly string[] DemoSettings =
    [
        "4.ckpt_name=\"" + DemoModelBuilder.CheckpointName + "\"", "5.width=64", "5.height=64", "7.text=\"\"",
        "3.steps=20", "3.cfg=5.0", "3.sampler_name=\"euler\"", "3.scheduler=\"normal\"",
    ];

    [Test]
    public async Task Twenty_prompts_show_the_colour_and_shape_they_name()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        DemoModelFixture.InstallInto(env);
        using var thread = new TensorExecutionThread();
        await using var engine = new WorkflowEngine(env.Catalog, null, env.Services, thread);

        int colours = 0, shapes = 0;
        var lines = new List<string>();
        var pictures = new List<DecodedImage>();
        foreach (var (colour, shape, seed) in Prompts())
        {
            string prompt = $"a {colour} {shape.Word()}";
            DecodedImage image = await Generate(engine, env, prompt, seed);
            pictures.Add(image);
            ShapeReading reading = ShapeClassifier.Classify(image);
            bool colourOk = reading.Colour == colour, shapeOk = reading.Shape == shape;
            colours += colourOk ? 1 : 0;
            shapes += shapeOk ? 1 : 0;
            lines.Add($"{prompt,-20} → {reading.Colour} {reading.Shape.Word()} (IoU {reading.Iou:F2}, {reading.ForegroundPixels} px){(colourOk && shapeOk ? "" : "  ✗")}");
        }
        string sheet = Path.Combine(DemoModelFixture.ModelsFolder, "quality-sheet.png");
        File.WriteAllBytes(sheet, PngWriter.Encode(ContactSheet(pictures, columns: 5)));
        TestContext.Out.WriteLine($"colour {colours}/20, shape {shapes}/20 (pictures: {sheet})");
        foreach (string line in lines) TestContext.Out.WriteLine(line);
        Assert.That(colours, Is.GreaterThanOrEqualTo(18), "colour matches in at least 90% of the pictures");
        Assert.That(shapes, Is.GreaterThanOrEqualTo(14), "shape matches in at least 70% of the pictures");
    }

    [Test]
    public void A_second_build_with_the_same_recipe_returns_the_cached_model()
    {
        DemoModelFiles first = DemoModelFixture.Files;
        DemoModelFiles again = DemoModelBuilder.Build(DemoModelFixture.ModelsFolder, DemoModelFixture.Seed);
        Assert.That(again.Cached, Is.True);
        Assert.That(again.Checkpoint, Is.EqualTo(first.Checkpoint));
        Assert.That(again.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    /// <summary>20 distinct (colour, shape) pairs: colour i mod 8 and shape i mod 5 cover each shape 4 times.</summary>
    public static IEnumerable<(string Colour, DemoShape Shape, int Seed)> Prompts() =>
        Enumerable.Range(0, 20).Select(i => (DemoPalette.Colours[i % 8].Name, DemoPalette.Shapes[i % 5], 1000 + i));

    private static async Task<DecodedImage> Generate(WorkflowEngine engine, NodeTestEnvironment env, string prompt, int seed)
    {
        ApiWorkflow workflow = WorkflowOverride.ApplyAll(engine.Parse(Txt2ImgWorkflow.Json(lora: null)),
            [.. DemoSettings, $"6.text=\"{prompt}\"", $"3.seed={seed}"], env.Catalog);
        var submitted = engine.Submit(workflow);
        Assert.That(submitted.Status, Is.EqualTo(SubmitStatus.Queued), submitted.Validation?.ToJsonString());
        await foreach (var _ in engine.Subscribe(submitted.JobId!)) { }
        JobSnapshot job = engine.GetJob(submitted.JobId!)!;
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        var saved = job.Outputs.Values.Where(ui => ui.ContainsKey("images"))
            .SelectMany(ui => (IEnumerable<Dictionary<string, object?>>)ui["images"]!)
            .Select(i => Path.Combine(env.Data.Output, (string)i["subfolder"]!, (string)i["filename"]!)).Single();
        DecodedImage image = ImageDecoder.Decode(File.ReadAllBytes(saved));
        Assert.That((image.Width, image.Height), Is.EqualTo((64, 64)));
        return image;
    }

    private static DecodedImage ContactSheet(IReadOnlyList<DecodedImage> pictures, int columns)
    {
        int size = pictures[0].Width, rows = (pictures.Count + columns - 1) / columns;
        var pixels = new byte[columns * size * rows * size * 3];
        for (int k = 0; k < pictures.Count; k++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    for (int c = 0; c < 3; c++)
                        pixels[(((k / columns) * size + y) * columns * size + (k % columns) * size + x) * 3 + c] =
                            pictures[k].Pixels[(y * size + x) * pictures[k].Channels + c];
        return new DecodedImage(columns * size, rows * size, 3, pixels);
    }
}
