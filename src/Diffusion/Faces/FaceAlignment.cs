using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Diffusion.Faces;

/// <summary>
/// InsightFace's face_align.norm_crop: the similarity transform (rotation, uniform scale, translation) that best maps
/// the five landmarks onto ArcFace's template in the least-squares sense (Umeyama, as skimage's SimilarityTransform
/// estimates it), then cv2.warpAffine to a square.
/// </summary>
public static class FaceAlignment
{
    /// <summary>ArcFace's landmarks at 112×112: eyes, nose tip, mouth corners (x, y).</summary>
    public static readonly float[] ArcFaceTemplate =
        [38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f, 71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f];

    /// <summary>
    /// estimate_norm: the template scaled to <paramref name="size"/> (a multiple of 112; or of 128, then shifted 8·size/128
    /// to the right) and the 2×3 matrix mapping the landmarks onto it.
    /// </summary>
    /// <param name="landmarks">Five (x, y) points, 10 values.</param>
    public static double[] EstimateNorm(float[] landmarks, int size)
    {
        double ratio, shiftX = 0;
        if (size % 112 == 0) ratio = size / 112.0;
        else if (size % 128 == 0)
        {
            ratio = size / 128.0;
            shiftX = 8.0 * ratio;
        }
        else throw new ArgumentException($"an aligned face is a multiple of 112 or 128 pixels, not {size}");
        var dst = new double[10];
        for (int i = 0; i < 5; i++)
        {
            // the template is float32 and scaled in float32, as numpy does with arcface_dst * ratio
            dst[i * 2] = (float)(ArcFaceTemplate[i * 2] * (float)ratio) + shiftX;
            dst[i * 2 + 1] = (float)(ArcFaceTemplate[i * 2 + 1] * (float)ratio);
        }
        return Similarity(landmarks.Select(v => (double)v).ToArray(), dst);
    }

    /// <summary>
    /// Least-squares similarity src → dst in 2-D: with both point sets centred and read as complex numbers,
    /// a + ib = Σ conj(s)·d / Σ|s|², which is Umeyama's rotation and scale for proper rotations.
    /// </summary>
    public static double[] Similarity(double[] src, double[] dst)
    {
        int n = src.Length / 2;
        double sx = 0, sy = 0, dx = 0, dy = 0;
        for (int i = 0; i < n; i++)
        {
            sx += src[i * 2]; sy += src[i * 2 + 1];
            dx += dst[i * 2]; dy += dst[i * 2 + 1];
        }
        sx /= n; sy /= n; dx /= n; dy /= n;
        double re = 0, im = 0, norm = 0;
        for (int i = 0; i < n; i++)
        {
            double ax = src[i * 2] - sx, ay = src[i * 2 + 1] - sy, bx = dst[i * 2] - dx, by = dst[i * 2 + 1] - dy;
            re += ax * bx + ay * by;
            im += ax * by - ay * bx;
            norm += ax * ax + ay * ay;
        }
        double a = re / norm, b = im / norm;
        return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
    }

    /// <summary>norm_crop: the face warped to <paramref name="size"/>×<paramref name="size"/> on its landmarks.</summary>
    public static DecodedImage NormCrop(DecodedImage image, float[] landmarks, int size)
    {
        double[] m = EstimateNorm(landmarks, size);
        return new DecodedImage(size, size, image.Channels,
            CvWarpAffine.Warp(image.Pixels, image.Width, image.Height, image.Channels, m, size, size));
    }
}
