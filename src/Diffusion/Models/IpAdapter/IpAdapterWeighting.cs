using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>
/// An adapter's weight per layer (cubiq ipadapter_execute + ipadapter_attention): a scale by transformer_index t for the
/// ease types, by block type for weak/strong, or a table of the t that take part (style/composition types; other t are
/// skipped). The precise types also swap cond and uncond tokens (uncond ← cond, cond ← 0) on some t.
/// </summary>
public sealed class IpAdapterWeighting
{
    /// <summary>cubiq's WEIGHT_TYPES, in its order.</summary>
    public static readonly IReadOnlyList<string> Types =
    [
        "linear", "ease in", "ease out", "ease in-out", "reverse in-out", "weak input", "weak output", "weak middle",
        "strong middle", "style transfer", "composition", "strong style transfer", "style and composition",
        "style transfer precise", "composition precise",
    ];

    private readonly string _type;
    private readonly double _weight;
    private readonly Dictionary<int, double>? _table;
    private readonly bool _sdxl;

    /// <param name="type">One of <see cref="Types"/> (or "strong style and composition").</param>
    /// <param name="weight">The node's weight.</param>
    /// <param name="isSdxl">Which tables apply (SDXL's 11 or SD1.5's 16 transformer indices).</param>
    /// <param name="compositionWeight">"style and composition": the composition weight; "style transfer precise": style_boost;
    /// "composition precise": composition_boost (the weight of the other layers; cubiq's default is the weight).</param>
    public IpAdapterWeighting(string type, double weight, bool isSdxl, double? compositionWeight = null)
    {
        _type = type;
        _weight = weight;
        _sdxl = isSdxl;
        double w = weight;
        static Dictionary<int, double> All(double v, params int[] ts) => ts.ToDictionary(t => t, _ => v);
        Dictionary<int, double> With(Dictionary<int, double> d, int t, double v) { d[t] = v; return d; }
        _table = type switch
        {
            "linear" or "ease in" or "ease out" or "ease in-out" or "reverse in-out" or "weak input" or "weak output"
                or "weak middle" or "strong middle" => null,
            "style transfer" => isSdxl ? All(w, 6) : All(w, 0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15),
            "composition" => isSdxl ? All(w, 3) : With(All(w, 5), 4, w * 0.25),
            "strong style transfer" => isSdxl ? All(w, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10) : All(w, 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            "style and composition" => StyleAndComposition(w, compositionWeight ?? 1.0, isSdxl),
            "strong style and composition" => isSdxl
                ? With(All(w, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10), 3, compositionWeight ?? 1.0)
                : With(With(All(w, 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 4, compositionWeight ?? 1.0), 5, compositionWeight ?? 1.0),
            "style transfer precise" => StyleAndComposition(w, compositionWeight ?? w, isSdxl),
            "composition precise" => CompositionPrecise(w, compositionWeight ?? w, isSdxl),
            _ => throw new ArgumentException($"unknown IP-Adapter weight type '{type}' (expected one of: {string.Join(", ", Types)})", nameof(type)),
        };
    }

    public string Type => _type;

    private static Dictionary<int, double> StyleAndComposition(double w, double c, bool sdxl)
    {
        if (sdxl) return new() { [3] = c, [6] = w };
        var d = new[] { 0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15 }.ToDictionary(t => t, _ => w);
        d[4] = c * 0.25;
        d[5] = c;
        return d;
    }

    private static Dictionary<int, double> CompositionPrecise(double composition, double b, bool sdxl)
    {
        if (sdxl)
        {
            var d = Enumerable.Range(0, 11).ToDictionary(t => t, _ => b * 0.1);
            d[3] = composition;
            d[6] = b;
            return d;
        }
        var s = new[] { 0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15 }.ToDictionary(t => t, _ => b);
        foreach (int t in new[] { 6, 7, 8 }) s[t] = b * 0.1;
        s[4] = composition * 0.25;
        s[5] = composition;
        return s;
    }

    /// <summary>
    /// The weight at transformer index <paramref name="t"/> of <paramref name="layers"/> in <paramref name="stage"/>, or
    /// null when the adapter skips that layer; <paramref name="swap"/> is true where the precise types swap the tokens.
    /// </summary>
    public double? At(int t, int layers, UnetStage stage, out bool swap)
    {
        swap = false;
        double w = _weight, half = layers / 2.0;
        if (_table is null)
            return _type switch
            {
                "ease in" => w * (0.05 + 0.95 * (1 - t / (double)layers)),
                "ease out" => w * (0.05 + 0.95 * (t / (double)layers)),
                "ease in-out" => w * (0.05 + 0.95 * (1 - Math.Abs(t - half) / half)),
                "reverse in-out" => w * (0.05 + 0.95 * (Math.Abs(t - half) / half)),
                "weak input" when stage == UnetStage.Input => w * 0.2,
                "weak middle" when stage == UnetStage.Middle => w * 0.2,
                "weak output" when stage == UnetStage.Output => w * 0.2,
                "strong middle" when stage != UnetStage.Middle => w * 0.2,
                _ => w,
            };
        if (!_table.TryGetValue(t, out double v)) return null;
        bool compositionLayer = _sdxl ? t == 3 : t is 4 or 5;
        swap = _type switch
        {
            "style transfer precise" => compositionLayer,
            "composition precise" => !compositionLayer,
            _ => false,
        };
        return v;
    }
}
