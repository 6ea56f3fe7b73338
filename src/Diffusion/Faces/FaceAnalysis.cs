using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Diffusion.Faces;

/// <summary>What InsightFace's FaceAnalysis gives for one face: ArcFace's embedding (raw and unit-length) and the aligned crop.</summary>
public sealed record FaceFound(FaceBox Box, float[] Embedding, float[] NormedEmbedding, DecodedImage Aligned);

/// <summary>
/// ComfyUI_IPAdapter_plus's use of InsightFace FaceAnalysis: detection at 640, 576, … 320 (or only at a detector's fixed
/// size) until a face is found; the first (highest-scoring) face's ArcFace embedding and its norm_crop at the size
/// the IP-Adapter wants.
/// </summary>
public sealed class FaceAnalysis(ScrfdDetector detector, ArcFaceRecognizer recognizer)
{
    public static IReadOnlyList<int> DetectionSizes { get; } = [640, 576, 512, 448, 384, 320];

    /// <summary>The first face of an RGB picture, or null when no detection size finds one.</summary>
    public FaceFound? FirstFace(DecodedImage rgb, int alignedSize)
    {
        IReadOnlyList<int> sizes = detector.FixedSize is int fixedSize ? [fixedSize] : DetectionSizes;
        foreach (int size in sizes)
        {
            Interrupts.ThrowIfRequested();
            List<FaceBox> faces = detector.Detect(rgb, size);
            if (faces.Count == 0) continue;
            FaceBox face = faces[0];
            float[] embedding = recognizer.Embedding(rgb, face.Landmarks);
            return new FaceFound(face, embedding, ArcFaceRecognizer.Normalize(embedding), FaceAlignment.NormCrop(rgb, face.Landmarks, alignedSize));
        }
        return null;
    }
}
