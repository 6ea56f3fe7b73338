namespace CharacterGen.Diffusion.Faces;

/// <summary>
/// An InsightFace model pack folder (ComfyUI keeps them in models/insightface/models/NAME/): which file is the detector
/// and which the recogniser. buffalo_l has det_10g.onnx and w600k_r50.onnx, antelopev2 scrfd_10g_bnkps.onnx and
/// glintr100.onnx; the landmark and gender/age models in the packs are not used.
/// </summary>
public static class InsightFacePack
{
    public static IReadOnlyList<string> DetectorFiles { get; } = ["det_10g.onnx", "scrfd_10g_bnkps.onnx"];
    public static IReadOnlyList<string> RecognizerFiles { get; } = ["w600k_r50.onnx", "glintr100.onnx"];

    /// <exception cref="FileNotFoundException">The folder or one of the two models is missing; the message names what was looked for and where.</exception>
    public static (string Detector, string Recognizer) Locate(string folder, string label)
    {
        if (!Directory.Exists(folder))
            throw new FileNotFoundException($"InsightFace model pack folder not found: {label} (expected {string.Join(" or ", DetectorFiles)} " +
                $"and {string.Join(" or ", RecognizerFiles)} in it)");
        return (Find(folder, label, DetectorFiles, "detector"), Find(folder, label, RecognizerFiles, "recogniser"));
    }

    private static string Find(string folder, string label, IReadOnlyList<string> names, string role)
    {
        foreach (string name in names)
        {
            string path = Path.Combine(folder, name);
            if (File.Exists(path)) return path;
        }
        string[] present = Directory.EnumerateFiles(folder, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        throw new FileNotFoundException($"no InsightFace {role} ({string.Join(" or ", names)}) in {label}; it has " +
            (present.Length == 0 ? "no .onnx files" : string.Join(", ", present)));
    }
}
