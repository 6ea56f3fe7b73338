using CharacterGen.Diffusion.Faces;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Faces;

/// <summary>
/// The INSIGHTFACE value: a pack's SCRFD detector and ArcFace recogniser, held as leases on the model cache's ONNX
/// sessions (disposing the value releases them). Pictures go to 8 bits as IPAdapter_plus's tensor_to_image does
/// (·255, clamped, truncated); the aligned crop comes back as value/255.
/// </summary>
public sealed class InsightFaceAnalyzer : IFaceAnalyzer
{
    private readonly ModelLease<OnnxModel> _detector, _recognizer;
    private readonly FaceAnalysis _analysis;

    public InsightFaceAnalyzer(string pack, ModelLease<OnnxModel> detector, ModelLease<OnnxModel> recognizer)
    {
        Pack = pack;
        _detector = detector;
        _recognizer = recognizer;
        _analysis = new FaceAnalysis(new ScrfdDetector(detector.Value), new ArcFaceRecognizer(recognizer.Value));
    }

    /// <summary>The pack's name (buffalo_l, antelopev2).</summary>
    public string Pack { get; }

    public string Provider => _detector.Value.Provider;

    public DetectedFace? FirstFace(Tensor image, int alignedSize)
    {
        DecodedImage rgb = ImageTensors.ToPixels(image);
        if (rgb.Channels != 3) throw new ArgumentException($"face analysis needs an RGB picture, got {rgb.Channels} channels");
        FaceFound? face = _analysis.FirstFace(rgb, alignedSize);
        if (face is null) return null;
        using var scope = Torch.NewScope();
        Tensor aligned = Torch.FromArray(face.Aligned.Pixels, [1, alignedSize, alignedSize, 3]).To(DType.Float32) / 255.0;
        return new DetectedFace(face.Embedding, face.NormedEmbedding, aligned.To(image.Device).MoveToOuterScope());
    }

    public void Dispose()
    {
        _detector.Dispose();
        _recognizer.Dispose();
    }

    public override string ToString() => $"InsightFace({Pack}, {Provider})";
}
