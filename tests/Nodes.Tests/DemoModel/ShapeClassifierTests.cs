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

    [Test]
    public void A_ring_is_told_by_its_hole_even_when_the_hole_is_small()
    {
        var ring = new ShapeScene(DemoShape.Ring, DemoPalette.Colour("green"), Radius: 20, 32, 32, "white", (235, 235, 235), (235, 235, 235), "");
        DecodedImage image = ToImage(ring.Render());
        Assert.That(ShapeClassifier.Classify(image).Shape, Is.EqualTo(DemoShape.Ring));

        // Fill all but the middle 7×7 pixels of the hole with the ring's colour: still a ring. Fill it all: a circle.
        DecodedImage narrowed = FillHole(image, keep: 3), filled = FillHole(image, keep: -1);
        Assert.That(ShapeClassifier.Classify(narrowed).Shape, Is.EqualTo(DemoShape.Ring));
        Assert.That(ShapeClassifier.Classify(filled).Shape, Is.EqualTo(DemoShape.Circle));
    }

    private static DecodedImage FillHole(DecodedImage image, int keep)
    {
        byte[] pixels = (byte[])image.Pixels.Clone();
        bool[] mask = ShapeClassifier.ForegroundMask(image);
        for (int y = 20; y < 44; y++)
            for (int x = 20; x < 44; x++)
            {
                if (mask[y * 64 + x] || (Math.Abs(x - 32) <= keep && Math.Abs(y - 32) <= keep)) continue;
                pixels[(y * 64 + x) * 3] = 30; pixels[(y * 64 + x) * 3 + 1] = 170; pixels[(y * 64 + x) * 3 + 2] = 50;
            }
        return new DecodedImage(image.Width, image.Height, 3, pixels);
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
