using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// One face found by a face analyser (InsightFace's FaceAnalysis "first face"): ArcFace's identity embedding, raw and
/// unit-length, and the face cropped and aligned on its five landmarks to a square of the requested size.
/// </summary>
/// <param name="Embedding">ArcFace output, 512 values (InsightFace <c>embedding</c>).</param>
/// <param name="NormedEmbedding"><see cref="Embedding"/> / its L2 norm (<c>normed_embedding</c>).</param>
/// <param name="AlignedFace">The aligned crop as an IMAGE [1, S, S, 3] in 0..1, owned by the caller.</param>
public sealed record DetectedFace(float[] Embedding, float[] NormedEmbedding, Tensor AlignedFace);

/// <summary>
/// ComfyUI_IPAdapter_plus's INSIGHTFACE value (IPAdapterInsightFaceLoader's output), consumed by IPAdapterFaceID:
/// detection + landmarks + ArcFace, run through ONNX Runtime.
/// </summary>
public interface IFaceAnalyzer : IDisposable
{
    /// <summary>
    /// The first face in <paramref name="image"/> ([H, W, 3] in 0..1; one picture of an IMAGE batch), trying detection
    /// sizes 640, 576, … 320 until one is found as the IPAdapter node does; null when there is none.
    /// </summary>
    /// <param name="alignedSize">The side of <see cref="DetectedFace.AlignedFace"/> (224 SD1.5, 256 SDXL).</param>
    DetectedFace? FirstFace(Tensor image, int alignedSize);
}
