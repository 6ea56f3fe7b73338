using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.DemoModel;

/// <summary>
/// Training works, measured: the demo model never saw its held-out concept (a purple star); six pictures of it captioned
/// "sks" train a LoRA through the shipped training workflow, and then "a sks" draws purple with the LoRA and other
/// colours without it. The character flow at small scale.
/// </summary>
[NonParallelizable]
public sealed class LoraLearnsTests
{
    private const string Trigger = "sks";
    private static readonly int[] Seeds = [2000, 2001, 2002, 2003, 2004, 2005];

    [Test]
    public async Task A_lora_trained_on_six_pictures_teaches_the_demo_model_a_concept_it_never_saw()
    {
        string[] concept = DemoModelRecipe.Default.HeldOutConcept.Split(' ');
        NamedColour colour = DemoPalette.Colour(concept[0]);
        DemoShape shape = Enum.Parse<DemoShape>(concept[1], ignoreCase: true);

        await using var h = EngineHarness.Create();
        DemoModelFixture.InstallInto(h.Env);
        WriteDataset(h.Env, "concept", colour, shape);

        var (_, trained) = await h.RunAsync(h.Workflow("train_lora_sd15.json",
            "4.ckpt_name=\"" + DemoModelBuilder.CheckpointName + "\"", "10.folder=\"concept\"", "12.steps=800",
            "12.batch_size=3", "12.learning_rate=0.003", "12.rank=16", "12.alpha=16.0", "12.lora_targets=\"all\"",
            "12.training_dtype=\"fp32\"", "12.lr_schedule=\"cosine\"", "12.checkpoint_every=0", "13.prefix=\"loras/concept\""));
        Assert.That(trained.Status, Is.EqualTo(JobStatus.Succeeded), trained.Error?.Message);
        string lora = Path.GetFileName(Directory.GetFiles(Path.Combine(h.Env.Data.Output, "loras")).Single());
        Directory.CreateDirectory(Path.Combine(h.Env.Models.Root, "loras"));
        File.Copy(Path.Combine(h.Env.Data.Output, "loras", lora), Path.Combine(h.Env.Models.Root, "loras", lora));

        int colourWith = 0, colourWithout = 0, conceptWith = 0, conceptWithout = 0;
        foreach (int seed in Seeds)
        {
            ShapeReading on = ShapeClassifier.Classify(await Generate(h, $"a {Trigger}", seed, lora));
            ShapeReading off = ShapeClassifier.Classify(await Generate(h, $"a {Trigger}", seed, lora: null));
            TestContext.Out.WriteLine($"seed {seed}: with LoRA {on.Colour} {on.Shape.Word()}, without {off.Colour} {off.Shape.Word()}");
            colourWith += on.Colour == colour.Name ? 1 : 0;
            colourWithout += off.Colour == colour.Name ? 1 : 0;
            conceptWith += on.Colour == colour.Name && on.Shape == shape ? 1 : 0;
            conceptWithout += off.Colour == colour.Name && off.Shape == shape ? 1 : 0;
        }
        TestContext.Out.WriteLine($"'{colour.Name}' with the LoRA {colourWith}/{Seeds.Length}, without {colourWithout}/{Seeds.Length}; " +
            $"'{colour.Name} {shape.Word()}' with {conceptWith}/{Seeds.Length}, without {conceptWithout}/{Seeds.Length}");
        // What is asserted is the concept's colour: its shape (a star at 64×64) came out in only 1–3 of 6 pictures in the
        // runs so far (bench/RESULTS.md), so the shape is reported, not yet required.
        Assert.That(colourWith, Is.GreaterThanOrEqualTo(5), "with the LoRA, 'a sks' takes the concept's colour");
        Assert.That(colourWithout, Is.LessThanOrEqualTo(1), "without it, the base model does not");
        Assert.That(conceptWithout, Is.Zero, "nor does it draw the held-out concept");
    }

    /// <summary>Six pictures of the concept (sizes, places and backgrounds vary) captioned with the trigger word.</summary>
    private static void WriteDataset(NodeTestEnvironment env, string folder, NamedColour colour, DemoShape shape)
    {
        string dir = Path.Combine(env.Data.Input, folder);
        Directory.CreateDirectory(dir);
        (string Name, byte Level)[] backgrounds = [("grey", 128), ("white", 235), ("black", 30)];
        for (int i = 0; i < 6; i++)
        {
            var (name, level) = backgrounds[i % 3];
            var scene = new ShapeScene(shape, colour, Radius: 15 + i, CenterX: 30 + i % 3 * 2, CenterY: 34 - i % 2 * 4,
                name, (level, level, level), (level, level, level), "");
            File.WriteAllBytes(Path.Combine(dir, $"{i}.png"), PngWriter.Encode(ShapeClassifierTests.ToImage(scene.Render())));
            File.WriteAllText(Path.Combine(dir, $"{i}.txt"), i % 2 == 0 ? $"a {Trigger}" : $"a {Trigger} on a {name} background");
        }
    }

    /// <summary>txt2img_sd15.json with the demo settings, through a LoraLoader (node 10) when a LoRA is given.</summary>
    private static async Task<DecodedImage> Generate(EngineHarness h, string prompt, int seed, string? lora)
    {
        ApiWorkflow workflow = WorkflowOverride.ApplyAll(h.Engine.Parse(Txt2ImgWorkflow.Json(lora)),
            [.. DemoModelQualityTests.DemoSettings, $"6.text=\"{prompt}\"", $"3.seed={seed}"], h.Env.Catalog);
        var (_, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single()));
    }
}
