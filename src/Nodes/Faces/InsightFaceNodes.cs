using CharacterGen.Diffusion.Faces;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;

namespace CharacterGen.Nodes.Faces;

/// <summary>
/// ComfyUI_IPAdapter_plus's IPAdapterInsightFaceLoader: an InsightFace pack from <c>models/insightface/models/NAME/</c>
/// as the INSIGHTFACE value IPAdapterFaceID consumes. provider CUDA runs on the server's CUDA device when ONNX Runtime
/// has the CUDA provider (else the CPU, with the reason on stderr); CPU keeps it on the CPU; ROCM is not supported and
/// runs on the CPU.
/// </summary>
internal static class InsightFaceNodes
{
    public static IReadOnlyList<string> Providers { get; } = ["CPU", "CUDA", "ROCM"];
    public static IReadOnlyList<string> Packs { get; } = ["buffalo_l", "antelopev2"];

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [Loader(folders)];

    private static NodeDefinition Loader(NodeFolders folders) => new NodeBuilder("IPAdapterInsightFaceLoader")
        .DisplayName("IPAdapter InsightFace Loader").Category("ipadapter/loaders")
        .Required(InputSpec.Combo("provider", Providers))
        .Required(InputSpec.Combo("model_name", Packs))
        .Output(IoTypes.InsightFace)
        .Execute((ctx, i) =>
        {
            string pack = i.Get<string>("model_name");
            var (detectorPath, recognizerPath) = Locate(folders, pack);
            var cache = ctx.GetRequiredService<ModelCache>();
            bool cuda = i.Get<string>("provider") == "CUDA";
            ModelLease<OnnxModel> detector = cache.Onnx(detectorPath, ScrfdDetector.Spec, cuda);
            try
            {
                return NodeOutput.Of(new InsightFaceAnalyzer(pack, detector, cache.Onnx(recognizerPath, ArcFaceRecognizer.Spec, cuda)));
            }
            catch
            {
                detector.Dispose();
                throw;
            }
        })
        .Build();

    /// <summary>The pack folder in the first insightface folder that has it (models/insightface/models/NAME).</summary>
    private static (string Detector, string Recognizer) Locate(NodeFolders folders, string pack)
    {
        var searched = folders.Models.SearchFolders("insightface");
        foreach (var (dir, label) in searched)
        {
            string folder = Path.Combine(dir, "models", pack);
            if (Directory.Exists(folder)) return InsightFacePack.Locate(folder, label + "models/" + pack + "/");
        }
        return InsightFacePack.Locate(Path.Combine(searched[^1].Directory, "models", pack),
            string.Join(", ", searched.Select(s => s.Label + "models/" + pack + "/")));
    }
}
