using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Nodes.Tests.DemoModel;
using CharacterGen.Protos.V1;
using State = CharacterGen.Protos.V1.CharacterState;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// The character flow on the demo model, judged by the demo model's pixel classifier: a character created from a
/// description the model has no words for is whatever its base image shows; after its training set and LoRA, scenes
/// that name only its trigger word show the character's colour, and the same scenes with the LoRA switched off do not.
/// </summary>
[Category("Characters")]
[NonParallelizable]
public sealed class CharacterDemoModelTests
{
    private static readonly (string Prompt, long Seed)[] Scenes = [("on a black background", 31), ("on a grey background", 32), ("on a white background", 33)];

    [Test]
    public async Task Scenes_show_the_trained_character_and_not_without_its_lora()
    {
        string models = Environment.GetEnvironmentVariable("CHARACTERGEN_DEMO_MODELS") is { Length: > 0 } configured
            ? Path.GetFullPath(configured) : Path.Combine(Path.GetTempPath(), "charactergen-demo-model", "seed-0");
        DemoModelFiles demo = DemoModelBuilder.Build(models);
        Environment.SetEnvironmentVariable("CG_CHARACTER_CHECKPOINT", demo.Checkpoint);
        CharacterTestServer host;
        try
        {
            host = await CharacterTestServer.StartAsync(o => o with { Steps = 20, Cfg = 5.0, TrainingSteps = 800, LoraRank = 16, LoraAlpha = 16 });
        }
        finally
        {
            Environment.SetEnvironmentVariable("CG_CHARACTER_CHECKPOINT", null);
        }
        await using var _ = host;
        var client = host.Client;

        var created = await client.CreateAsync(new CreateCharacterRequest
        {
            Description = "a mysterious wanderer", Name = "Wanderer", Render = new RenderSettings { Seed = 7 }, InlineImages = true,
        });
        string id = created.Character.CharacterId;
        ShapeReading character = ShapeClassifier.Classify(ImageDecoder.Decode(created.Candidate.Image.Content.Span));
        TestContext.Out.WriteLine($"base image: {character.Colour} {character.Shape.Word()} ({character.ForegroundPixels} px)");
        Assert.That(character.ForegroundPixels, Is.GreaterThan(200), "the base image shows a shape");

        await client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = created.Candidate.CandidateId });
        await client.GenerateTrainingSetAsync(new GenerateTrainingSetRequest { CharacterId = id, Count = 6, VariationStrength = 0.3 });
        Assert.That((await CharacterFlowTests.WaitIdleAsync(client, id)).State, Is.EqualTo(State.BaseApproved));
        await client.TrainAsync(new TrainRequest { CharacterId = id, LearningRate = 3e-3 });
        var ready = await CharacterFlowTests.WaitIdleAsync(client, id);
        Assert.That(ready.State, Is.EqualTo(State.Ready), ready.ErrorMessage);

        int with = 0, without = 0;
        foreach (var (prompt, seed) in Scenes)
        {
            ShapeReading on = await SceneAsync(client, id, prompt, seed, strength: 1.0);
            // 0 means the default strength 1.0, so "off" is a strength too small to change a pixel.
            ShapeReading off = await SceneAsync(client, id, prompt, seed, strength: 1e-6);
            TestContext.Out.WriteLine($"'{prompt}': with LoRA {on.Colour} {on.Shape.Word()}, without {off.Colour} {off.Shape.Word()}");
            with += on.Colour == character.Colour ? 1 : 0;
            without += off.Colour == character.Colour ? 1 : 0;
        }
        TestContext.Out.WriteLine($"character colour '{character.Colour}' with the LoRA {with}/3, without {without}/3");
        Assert.That(with, Is.GreaterThanOrEqualTo(2), "the scenes show the character's colour");
        Assert.That(without, Is.LessThanOrEqualTo(1), "the same scenes without the LoRA do not");
    }

    private static async Task<ShapeReading> SceneAsync(Protos.V1.Characters.CharactersClient client, string id, string prompt, long seed, double strength)
    {
        var scene = await client.GenerateSceneAsync(new GenerateSceneRequest
        {
            CharacterId = id, Prompt = prompt, Render = new RenderSettings { Seed = seed }, LoraStrength = strength, InlineImages = true,
        });
        return ShapeClassifier.Classify(ImageDecoder.Decode(scene.Image.Content.Span));
    }
}
