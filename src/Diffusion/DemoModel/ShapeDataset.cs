namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// The procedural demo dataset: every scene is drawn from the seed alone (<see cref="DemoRandom"/>), so the same seed
/// gives the same pictures and captions on every machine. Shapes are 28–44 pixels across, placed within ±6 pixels of the
/// centre; the foreground always contrasts with the background behind it. A caption names the colour and shape, and
/// (60% of the time) the background: "a red circle", "a red circle on a grey background".
/// </summary>
public static class ShapeDataset
{
    public const double MinRadius = 14, MaxRadius = 22, MaxOffset = 6;

    /// <summary>Smallest RGB distance between the foreground and any background row the shape covers.</summary>
    public const double MinContrast = 110;

    /// <summary>Scene <paramref name="index"/> of the dataset with <paramref name="seed"/> (independent of other indices).</summary>
    public static ShapeScene Scene(ulong seed, long index)
    {
        var random = new DemoRandom(seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xC2B2AE3D27D4EB4FUL);
        random.NextUInt64();
        while (true)
        {
            ShapeScene scene = Draw(random);
            if (Contrast(scene) >= MinContrast) return scene;
        }
    }

    /// <summary>The first <paramref name="count"/> scenes.</summary>
    public static IEnumerable<ShapeScene> Scenes(ulong seed, int count)
    {
        for (int i = 0; i < count; i++) yield return Scene(seed, i);
    }

    private static ShapeScene Draw(DemoRandom random)
    {
        DemoShape shape = random.Pick(DemoPalette.Shapes);
        NamedColour colour = random.Pick(DemoPalette.Colours);
        double radius = random.Uniform(MinRadius, MaxRadius);
        double cx = ShapeScene.Size / 2.0 + random.Uniform(-MaxOffset, MaxOffset);
        double cy = ShapeScene.Size / 2.0 + random.Uniform(-MaxOffset, MaxOffset);
        string background;
        (byte, byte, byte) top, bottom;
        if (random.NextDouble() < 0.25)
        {
            background = DemoPalette.GradientBackground;
            byte a = (byte)random.Uniform(30, 225), b = (byte)random.Uniform(30, 225);
            top = (a, a, a);
            bottom = (b, b, b);
        }
        else
        {
            NamedColour plain = random.Pick(DemoPalette.PlainBackgrounds);
            background = plain.Name;
            top = bottom = (plain.R, plain.G, plain.B);
        }
        string caption = random.NextDouble() < 0.6
            ? $"a {colour.Name} {shape.Word()} on a {background} background"
            : $"a {colour.Name} {shape.Word()}";
        return new ShapeScene(shape, colour, radius, cx, cy, background, top, bottom, caption);
    }

    private static double Contrast(ShapeScene scene)
    {
        double worst = double.MaxValue;
        for (double y = scene.CenterY - scene.Radius; y <= scene.CenterY + scene.Radius; y += 1)
        {
            var bg = scene.BackgroundAt(y);
            worst = Math.Min(worst, scene.Colour.DistanceTo(bg.R, bg.G, bg.B));
        }
        return worst;
    }
}
