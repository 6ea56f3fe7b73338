using System.Collections;
using System.Globalization;
using System.Text;

namespace CharacterGen.GraphRuntime.Json;

/// <summary>
/// Renders values the way Python's str()/repr() do, so that error messages and details read exactly
/// like ComfyUI's ("Value 0 smaller than min of 1", "sampler: 'foo' not in ['euler', 'heun']").
/// </summary>
public static class PythonText
{
    public static string Float(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (value == Math.Floor(value) && Math.Abs(value) < 1e16)
            return value.ToString("F1", CultureInfo.InvariantCulture);
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E');
        if (e < 0) return text;
        // Python writes 1e-05 / 1e+20 where .NET writes 1E-05 / 1E+20.
        var exponent = int.Parse(text.AsSpan(e + 1), CultureInfo.InvariantCulture);
        return $"{text[..e]}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
    }

    /// <summary>str(value).</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        _ => Repr(value),
    };

    /// <summary>repr(value).</summary>
    public static string Repr(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'",
        double d => Float(d),
        float f => Float(f),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IDictionary dict => ReprDict(dict),
        IEnumerable list => ReprList(list),
        _ => value.ToString() ?? "",
    };

    private static string ReprList(IEnumerable list)
    {
        var sb = new StringBuilder("[");
        var first = true;
        foreach (var item in list)
        {
            if (!first) sb.Append(", ");
            sb.Append(Repr(item));
            first = false;
        }
        return sb.Append(']').ToString();
    }

    private static string ReprDict(IDictionary dict)
    {
        var sb = new StringBuilder("{");
        var first = true;
        foreach (DictionaryEntry e in dict)
        {
            if (!first) sb.Append(", ");
            sb.Append(Repr(e.Key)).Append(": ").Append(Repr(e.Value));
            first = false;
        }
        return sb.Append('}').ToString();
    }
}
