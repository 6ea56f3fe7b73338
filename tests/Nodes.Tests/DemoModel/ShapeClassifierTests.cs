using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Nodes.Tests.DemoModel;

/// <summary>The yardstick itself: the classifier must read the drawn dataset correctly before it may judge a model.</summary>
public sealed class ShapeClassifierTests
{
    [Test]
    public void Reads_colour_and_shape_of_the_drawn_dataset()
    {
        const int Count = 400;
        int colours = 0, shapes = 0;
        var confusions = new List<string>();
        foreach (ShapeScene scene in ShapeDataset.Scenes(seed: 7, Count))
        {
            ShapeReading reading = ShapeClassifier.Classify(ToImage(scene.Render()));
            if (reading.Colour == scene.Colour.Name) colours++;
            if (reading.Shape == scene.Shape) shapes++;
            else confusions.Add($"{scene.Shape}→{reading.Shape}");
        }
        TestContext.Out.WriteLine($"colour {colours}/{Count}, shape {shapes}/{Count}; shape confusions: {string.Join(", ", confusions.Take(20))}");
        Assert.That(colours, Is.GreaterThanOrEqualTo(Count * 95 / 100), "colour accuracy on the dataset");
        Assert.That(shapes, Is.GreaterThanOrEqualTo(Count * 95 / 100), "shape accuracy on the dataset");
    }

    [Test]
    public void A_plain_background_has_no_foreground()
    {
        var empty = new ShapeScene(DemoShape.Circle, DemoPalette.Colour("red"), Radius: 0.01, 32, 32, "grey", (128, 128, 128), (128, 128, 128), "");
        Assert.That(ShapeClassifier.Classify(ToImage(empty.Render())).ForegroundPixels, Is.Zero);
    }

    /// <summary>Planar [3, H, W] floats in [−1, 1] → 8-bit interleaved RGB, as SaveImage writes.</summary>
    internal static DecodedImage ToImage(float[] planar, int size = ShapeScene.Size)
    {
        var pixels = new byte[size * size * 3];
        for (int p = 0; p < size * size; p++)
            for (int c = 0; c < 3; c++)
                pixels[p * 3 + c] = (byte)Math.Clamp(Math.Round((planar[c * size * size + p] + 1) * 127.5), 0, 255);
        return new DecodedImage(size, size, 3, pixels);
    }
}
