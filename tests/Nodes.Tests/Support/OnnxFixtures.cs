using System.Text.Json;
using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Nodes.Tests.Support;

/// <summary>
/// The tiny ONNX models and reference arrays that Fixtures/Onnx/make_onnx_fixtures.py writes (committed; rerun the
/// script to regenerate). Arrays are raw little-endian, described in manifest.json.
/// </summary>
internal static class OnnxFixtures
{
    private sealed record Entry(string File, string Dtype, int[] Shape);

    private static readonly Lazy<Dictionary<string, Entry>> Manifest = new(() =>
        JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(Path.Combine(Folder, "manifest.json")),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!);

    public static string Folder => Path.Combine(Repository.Root, "tests", "Nodes.Tests", "Fixtures", "Onnx");

    public static string Model(string file) => Path.Combine(Folder, file);

    public static int[] Shape(string name) => Get(name).Shape;

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Folder, Get(name, "uint8").File));

    public static double[] Doubles(string name) => Read<double>(name, "float64");

    public static float[] Floats(string name) => Read<float>(name, "float32");

    /// <summary>An H×W×3 uint8 array as pixels.</summary>
    public static DecodedImage Image(string name)
    {
        int[] s = Shape(name);
        return new DecodedImage(s[1], s[0], s[2], Bytes(name));
    }

    /// <summary>Copies a fixture model into a models tree as <paramref name="folder"/>/<paramref name="asName"/>.</summary>
    public static void Install(string modelsRoot, string folder, string fixture, string asName)
    {
        string target = Path.Combine(modelsRoot, folder, asName);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Model(fixture), target, overwrite: true);
    }

    private static T[] Read<T>(string name, string dtype) where T : unmanaged
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(Folder, Get(name, dtype).File));
        var values = new T[bytes.Length / System.Runtime.InteropServices.Marshal.SizeOf<T>()];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private static Entry Get(string name, string? dtype = null)
    {
        if (!Manifest.Value.TryGetValue(name, out Entry? e)) Assert.Fail($"no fixture array '{name}' in {Folder}/manifest.json");
        if (dtype is not null && e!.Dtype != dtype) Assert.Fail($"fixture '{name}' is {e.Dtype}, not {dtype}");
        return e!;
    }
}
