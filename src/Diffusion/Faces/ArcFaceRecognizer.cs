using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;

namespace CharacterGen.Diffusion.Faces;

/// <summary>
/// InsightFace's ArcFaceONNX (w600k_r50.onnx in buffalo_l, glintr100.onnx in antelopev2): the face aligned to the
/// model's input size (112) on its landmarks, fed as (v − 127.5)/127.5 RGB, gives the identity embedding.
/// </summary>
public sealed class ArcFaceRecognizer(OnnxModel model)
{
    public const float InputMean = 127.5f, InputStd = 127.5f;

    public static OnnxModelSpec Spec { get; } = new("ArcFace recogniser",
        [new OnnxTensorSpec("aligned face [N, 3, 112, 112]", null, 4)],
        [new OnnxTensorSpec("embedding [N, D]", null, 2)]);

    public int InputSize
    {
        get
        {
            long[] dims = model.Inputs[0].Dimensions;
            return dims[2] > 0 ? (int)dims[2] : 112;
        }
    }

    /// <summary>The embedding of the face at <paramref name="landmarks"/> in an RGB picture.</summary>
    public float[] Embedding(DecodedImage rgb, float[] landmarks)
    {
        int size = InputSize;
        DecodedImage aligned = FaceAlignment.NormCrop(rgb, landmarks, size);
        var blob = new float[3 * size * size];
        float scale = (float)(1.0 / InputStd);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < size * size; p++)
                blob[c * size * size + p] = (aligned.Pixels[p * 3 + c] - InputMean) * scale;
        return model.Run(new OnnxTensor(blob, [1, 3, size, size]))[0].Data;
    }

    /// <summary>The embedding divided by its L2 norm (InsightFace's normed_embedding).</summary>
    public static float[] Normalize(float[] embedding)
    {
        double sum = 0;
        foreach (float v in embedding) sum += (double)v * v;
        float norm = (float)Math.Sqrt(sum);
        return Array.ConvertAll(embedding, v => v / norm);
    }
}
