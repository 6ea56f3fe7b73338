using CharacterGen.Diffusion.Imaging;
using CharacterGen.Protos.V1;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>The actor base-image flow (file layout, random seed reported and reproducible) and per-user generation.</summary>
[Category("Characters")]
public sealed class ActorAndUserTests
{
    [Test]
    public async Task Actor_base_image_is_stored_under_its_folder_and_its_seed_reproduces_it()
    {
        await using var host = await CharacterTestServer.StartAsync();

        var first = await host.Client.GenerateBaseImageAsync(new GenerateBaseImageRequest
        {
            Actor = "maria", Description = "woman with short black hair", Render = new RenderSettings { Seed = -1 },
        });

        Assert.That(first.Path, Is.EqualTo("maria/base_image/maria_base.png"));
        Assert.That(first.Seed, Is.GreaterThanOrEqualTo(0));
        Assert.That(first.Prompt, Does.StartWith("Professional full-body studio portrait photograph of a woman with short black hair."));
        var file = Path.Combine(host.DataDir, "maria", "base_image", "maria_base.png");
        var pixels = ImageDecoder.Decode(File.ReadAllBytes(file));
        Assert.That((pixels.Width, pixels.Height), Is.EqualTo((64, 96)), "the test deployment's actor size");
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(file)!), Has.Length.EqualTo(1), "no temporary left beside it");

        var again = await host.Client.GenerateBaseImageAsync(new GenerateBaseImageRequest
        {
            Actor = "maria", Description = "woman with short black hair", Render = new RenderSettings { Seed = first.Seed },
        });

        Assert.That(again.Seed, Is.EqualTo(first.Seed));
        Assert.That(ImageDecoder.Decode(File.ReadAllBytes(file)).Pixels, Is.EqualTo(pixels.Pixels));
    }

    [Test]
    public async Task A_user_generates_with_the_model_alias_configured_for_them()
    {
        await using var host = await CharacterTestServer.StartAsync();

        var response = await host.Client.GenerateAsync(new GenerateRequest
        {
            User = "alice", Prompt = "a cat in a garden", Render = new RenderSettings { Seed = 9 }, InlineImages = true,
        });

        Assert.That(response.Model, Is.EqualTo("alice-model"));
        Assert.That(response.Seed, Is.EqualTo(9));
        Assert.That(response.GenerationTime.ToTimeSpan(), Is.GreaterThan(TimeSpan.Zero));
        Assert.That(ImageDecoder.Decode(response.Image.Content.Span).Width, Is.EqualTo(64));
    }
}
