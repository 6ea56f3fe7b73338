namespace CharacterGen.Diffusion.DemoModel;

/// <summary>An sRGB colour with its English name, as captions say it.</summary>
public readonly record struct NamedColour(string Name, byte R, byte G, byte B)
{
    /// <summary>Euclidean distance in 0–255 RGB.</summary>
    public double DistanceTo(double r, double g, double b) =>
        Math.Sqrt((R - r) * (R - r) + (G - g) * (G - g) + (B - b) * (B - b));
}

/// <summary>The demo dataset's words: foreground colours, shapes and backgrounds.</summary>
public static class DemoPalette
{
    /// <summary>Foreground colours, saturated and far apart so a picture's colour is never ambiguous.</summary>
    public static IReadOnlyList<NamedColour> Colours { get; } =
    [
        new("red", 220, 30, 30), new("green", 30, 170, 50), new("blue", 30, 70, 225), new("yellow", 245, 220, 30),
        new("purple", 140, 50, 190), new("orange", 250, 140, 20), new("white", 245, 245, 245), new("black", 15, 15, 15),
    ];

    /// <summary>Plain backgrounds; "gradient" backgrounds are vertical blends of two greys.</summary>
    public static IReadOnlyList<NamedColour> PlainBackgrounds { get; } =
    [
        new("grey", 128, 128, 128), new("white", 235, 235, 235), new("black", 30, 30, 30),
    ];

    public const string GradientBackground = "gradient";

    public static IReadOnlyList<DemoShape> Shapes { get; } = Enum.GetValues<DemoShape>();

    public static string Word(this DemoShape shape) => shape.ToString().ToLowerInvariant();

    public static NamedColour Colour(string name) =>
        Colours.FirstOrDefault(c => c.Name == name) is { Name: not null } c ? c
            : throw new ArgumentException($"unknown colour '{name}'", nameof(name));

    /// <summary>Every word a caption may contain, for the tokenizer.</summary>
    public static IEnumerable<string> CaptionWords() =>
        new[] { "a", "on", "background", GradientBackground }
            .Concat(Colours.Select(c => c.Name))
            .Concat(PlainBackgrounds.Select(c => c.Name))
            .Concat(Shapes.Select(s => s.Word()))
            .Distinct(StringComparer.Ordinal);
}

public enum DemoShape { Circle, Square, Triangle, Star, Ring }
