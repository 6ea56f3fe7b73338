using System.CommandLine;
using System.Globalization;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Server.Cli;

/// <summary>`charactergen inspect FILE.safetensors`: what a weights file holds, without loading any tensor.</summary>
public static class InspectCommand
{
    public static Command Create(CliOutput output)
    {
        var file = new Argument<string>("file") { Description = "A .safetensors file." };
        var command = new Command("inspect", "Show a safetensors file's tensors, dtypes, metadata and detected model family.") { file };
        command.SetAction(parse => Run(parse.GetValue(file)!, output));
        return command;
    }

    public static int Run(string path, CliOutput output)
    {
        string shown = Path.GetFileName(path);
        try
        {
            using var st = SafetensorsFile.Open(path);
            Print(shown, st, output.Out);
            return 0;
        }
        catch (Exception e) when (e is SafetensorsFormatException or IOException or UnauthorizedAccessException)
        {
            string reason = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException => "permission denied",
                _ => e.Message,
            };
            output.Error.WriteLine($"charactergen inspect: {shown}: {reason}");
            return 1;
        }
    }

    private static void Print(string name, SafetensorsFile st, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine($"file      {name}");
        w.WriteLine($"tensors   {st.Entries.Count}");
        w.WriteLine($"bytes     {st.TotalDataBytes.ToString("N0", inv)} ({FormatSize(st.TotalDataBytes)}), header {st.HeaderBytes.ToString("N0", inv)}");
        var byDType = st.Entries.GroupBy(e => e.DType).OrderByDescending(g => g.Count())
            .Select(g => $"{g.Key.ToHeaderName()} ×{g.Count()}");
        w.WriteLine($"dtypes    {string.Join(", ", byDType)}");
        w.WriteLine($"family    {ModelFamilyDetector.Detect(st.Entries.Select(e => e.Name)).Describe()}");
        if (st.Metadata.Count == 0) w.WriteLine("metadata  (none)");
        else
        {
            w.WriteLine("metadata");
            foreach (var (key, value) in st.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                w.WriteLine($"  {key}: {Shorten(value)}");
        }
    }

    private static string Shorten(string value)
    {
        string oneLine = value.ReplaceLineEndings(" ");
        return oneLine.Length <= 200 ? oneLine : oneLine[..200] + $"… ({value.Length} chars)";
    }

    private static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.00} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.0} KiB",
        _ => $"{bytes} B",
    };
}
