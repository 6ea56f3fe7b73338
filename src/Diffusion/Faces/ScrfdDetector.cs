using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;

namespace CharacterGen.Diffusion.Faces;

/// <summary>A detected face: its box, score and five landmarks (x, y), in the picture's pixels.</summary>
public sealed record FaceBox(float X1, float Y1, float X2, float Y2, float Score, float[] Landmarks);

/// <summary>
/// InsightFace's SCRFD detector with keypoints (det_10g.onnx in buffalo_l, scrfd_10g_bnkps.onnx in antelopev2): the
/// picture is scaled into a square of the detection size (cv2 INTER_LINEAR, kept aspect, top-left, zero padding),
/// fed as (v − 127.5)/128 RGB; for strides 8, 16 and 32 the network returns per anchor (two per cell, centred on the
/// cell's corner · stride) a score, four box distances and ten landmark offsets, all in strides. Anchors scoring at
/// least 0.5 are decoded, scaled back to the picture, and non-maximum suppression (IoU over 0.4, areas with +1) keeps
/// the best of each overlapping group, best first.
/// </summary>
public sealed class ScrfdDetector(OnnxModel model)
{
    public const float ScoreThreshold = 0.5f, NmsThreshold = 0.4f;
    private static readonly int[] Strides = [8, 16, 32];
    private const int AnchorsPerCell = 2;

    /// <summary>One image input and the nine outputs of a keypoint SCRFD (scores, boxes, landmarks per stride), matched by position.</summary>
    public static OnnxModelSpec Spec { get; } = new("SCRFD face detector (with keypoints)",
        [new OnnxTensorSpec("image [1, 3, H, W]", null, 4)],
        [.. Strides.Select(s => new OnnxTensorSpec($"scores/{s}", null, 2, 3)),
         .. Strides.Select(s => new OnnxTensorSpec($"boxes/{s}", null, 2, 3)),
         .. Strides.Select(s => new OnnxTensorSpec($"landmarks/{s}", null, 2, 3))]);

    /// <summary>The detection size the model fixes, or null when its input is dynamic.</summary>
    public int? FixedSize
    {
        get
        {
            long[] dims = model.Inputs[0].Dimensions;
            return dims[2] > 0 && dims[3] > 0 ? (int)Math.Min(dims[2], dims[3]) : null;
        }
    }

    /// <summary>Faces in an RGB picture at detection size <paramref name="size"/> (a multiple of 32), best first.</summary>
    public List<FaceBox> Detect(DecodedImage rgb, int size)
    {
        double imageRatio = (double)rgb.Height / rgb.Width;
        int newHeight, newWidth;
        if (imageRatio > 1)
        {
            newHeight = size;
            newWidth = (int)(newHeight / imageRatio);
        }
        else
        {
            newWidth = size;
            newHeight = (int)(newWidth * imageRatio);
        }
        float scale = (float)((double)newHeight / rgb.Height);
        byte[] resized = CvLinearResize.Resize(rgb.Pixels, rgb.Width, rgb.Height, 3, newWidth, newHeight);
        var blob = new float[3 * size * size];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    byte v = y < newHeight && x < newWidth ? resized[(y * newWidth + x) * 3 + c] : (byte)0;
                    blob[(c * size + y) * size + x] = (v - 127.5f) * (1f / 128);
                }
        OnnxTensor[] outputs = model.Run(new OnnxTensor(blob, [1, 3, size, size]));
        var candidates = new List<FaceBox>();
        for (int level = 0; level < Strides.Length; level++)
            Decode(outputs[level], outputs[level + 3], outputs[level + 6], Strides[level], size, scale, candidates);
        return Suppress(candidates);
    }

    private static void Decode(OnnxTensor scores, OnnxTensor boxes, OnnxTensor landmarks, int stride, int size, float scale, List<FaceBox> into)
    {
        int cells = size / stride, anchors = cells * cells * AnchorsPerCell;
        if (scores.Count != anchors || boxes.Count != anchors * 4 || landmarks.Count != anchors * 10)
            throw new InvalidDataException($"the detector's stride-{stride} outputs have {scores.Count}/{boxes.Count}/{landmarks.Count} values, " +
                $"expected {anchors}/{anchors * 4}/{anchors * 10} for a {size}×{size} input");
        for (int i = 0; i < anchors; i++)
        {
            float score = scores.Data[i];
            if (!(score >= ScoreThreshold)) continue;
            int cell = i / AnchorsPerCell;
            float cx = cell % cells * stride, cy = cell / cells * stride;
            float[] d = boxes.Data;
            float x1 = cx - d[i * 4] * stride, y1 = cy - d[i * 4 + 1] * stride;
            float x2 = cx + d[i * 4 + 2] * stride, y2 = cy + d[i * 4 + 3] * stride;
            var points = new float[10];
            for (int k = 0; k < 10; k += 2)
            {
                points[k] = (cx + landmarks.Data[i * 10 + k] * stride) / scale;
                points[k + 1] = (cy + landmarks.Data[i * 10 + k + 1] * stride) / scale;
            }
            into.Add(new FaceBox(x1 / scale, y1 / scale, x2 / scale, y2 / scale, score, points));
        }
    }

    /// <summary>Greedy NMS over score order (stable for equal scores), IoU with InsightFace's +1 pixel areas.</summary>
    public static List<FaceBox> Suppress(List<FaceBox> candidates)
    {
        var order = candidates.OrderByDescending(b => b.Score).ToList();
        var kept = new List<FaceBox>();
        while (order.Count > 0)
        {
            FaceBox best = order[0];
            kept.Add(best);
            float area = (best.X2 - best.X1 + 1) * (best.Y2 - best.Y1 + 1);
            order = order.Skip(1).Where(o =>
            {
                float w = Math.Max(0f, Math.Min(best.X2, o.X2) - Math.Max(best.X1, o.X1) + 1);
                float h = Math.Max(0f, Math.Min(best.Y2, o.Y2) - Math.Max(best.Y1, o.Y1) + 1);
                float inter = w * h;
                return inter / (area + (o.X2 - o.X1 + 1) * (o.Y2 - o.Y1 + 1) - inter) <= NmsThreshold;
            }).ToList();
        }
        return kept;
    }
}
