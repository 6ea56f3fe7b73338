using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.Tests.DemoModel;

/// <summary>The drawn dataset and its vocabulary: fixed by the seed, captions that say what is drawn.</summary>
public sealed class ShapeDatasetTests
{
    [Test]
    public void A_scene_is_fixed_by_seed_and_index()
    {
        ShapeScene a = ShapeDataset.Scene(3, 17), b = ShapeDataset.Scene(3, 17);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(b.Render(), Is.EqualTo(a.Render()));
        Assert.That(ShapeDataset.Scenes(4, 20).Select(s => s.Caption), Is.Not.EqualTo(ShapeDataset.Scenes(3, 20).Select(s => s.Caption)));
    }

    [Test]
    public void Captions_name_the_colour_and_shape_and_the_drawing_contrasts_with_its_background()
    {
        var scenes = ShapeDataset.Scenes(0, 300).ToList();
        foreach (ShapeScene s in scenes)
        {
            Assert.That(s.Caption, Does.StartWith($"a {s.Colour.Name} {s.Shape.Word()}"));
            var bg = s.BackgroundAt(s.CenterY);
            Assert.That(s.Colour.DistanceTo(bg.R, bg.G, bg.B), Is.GreaterThanOrEqualTo(ShapeDataset.MinContrast));
            Assert.That(s.Coverage((int)s.CenterX, (int)s.CenterY) + s.Coverage((int)(s.CenterX + s.Radius * 0.75), (int)s.CenterY),
                Is.GreaterThan(0), "the shape covers pixels near its centre");
        }
        Assert.That(scenes.Select(s => s.Shape).Distinct().Count(), Is.EqualTo(5));
        Assert.That(scenes.Select(s => s.Colour.Name).Distinct().Count(), Is.EqualTo(8));
        Assert.That(scenes.Count(s => s.Caption.EndsWith("background", StringComparison.Ordinal)), Is.InRange(140, 220));
        Assert.That(scenes.Count(s => s.Background == DemoPalette.GradientBackground), Is.InRange(45, 110));
    }

    [Test]
    public void Pixels_are_in_the_unit_range_with_background_corners()
    {
        ShapeScene s = ShapeDataset.Scene(0, 5);
        float[] pixels = s.Render();
        Assert.That(pixels, Has.Length.EqualTo(3 * 64 * 64));
        Assert.That(pixels.Min(), Is.GreaterThanOrEqualTo(-1f));
        Assert.That(pixels.Max(), Is.LessThanOrEqualTo(1f));
        Assert.That((pixels[0] + 1) * 127.5, Is.EqualTo((double)s.Top.R).Within(0.01), "top-left corner is background");
    }

    [Test]
    public void Every_caption_word_is_one_token_and_the_tokenizer_files_read_back_the_same()
    {
        var vocabulary = DemoVocabulary.Build();
        var tokenizer = new ClipTokenizer(vocabulary);
        foreach (string word in DemoPalette.CaptionWords())
            Assert.That(tokenizer.Tokenize(word), Has.Count.EqualTo(1), word);

        string folder = Path.Combine(Path.GetTempPath(), "cg-demo-vocab-" + Guid.NewGuid().ToString("N"));
        try
        {
            vocabulary.WriteFiles(folder);
            var read = ClipTokenizer.FromHuggingFaceFiles(Path.Combine(folder, ClipTokenizer.VocabFileName), Path.Combine(folder, ClipTokenizer.MergesFileName));
            const string Caption = "a purple triangle on a gradient background";
            Assert.That(read.Encode(Caption), Is.EqualTo(tokenizer.Encode(Caption)));
            Assert.That(read.Encode(Caption), Has.Count.EqualTo(7));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
