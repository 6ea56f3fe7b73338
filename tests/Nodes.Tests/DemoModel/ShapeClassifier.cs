using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Nodes.Tests.DemoModel;

/// <summary>What <see cref="ShapeClassifier"/> saw in a picture.</summary>
public sealed record ShapeReading(string Colour, DemoShape Shape, double Iou, int ForegroundPixels);

/// <summary>
/// A small deterministic pixel classifier for the demo model's pictures, the yardstick of the quality tests. The
/// background of each row is the mean of its two leftmost and two rightmost pixels (plain and vertical-gradient
/// backgrounds); foreground pixels differ from it by more than a threshold. The colour is the named colour nearest to
/// the foreground's median. A foreground that encloses background (a hole) is a ring; otherwise the shape is the template
/// (circle, square, triangle, star — its own drawings, not the dataset's) that, stretched over the foreground's bounding
/// box, overlaps the foreground best (intersection over union).
/// </summary>
public static class ShapeClassifier
{
    /// <summary>RGB distance from the row's background above which a pixel is foreground.</summary>
    public const double ForegroundThreshold = 60;

    private const int Edge = 2;

    public static ShapeReading Classify(DecodedImage image)
    {
        int w = image.Width, h = image.Height;
        bool[] mask = ForegroundMask(image);
        var (r, g, b) = MedianColour(image, mask);
        string colour = DemoPalette.Colours.MinBy(c => c.DistanceTo(r, g, b)).Name;

        int count = mask.Count(m => m);
        if (count == 0) return new ShapeReading(colour, DemoShape.Circle, 0, 0);
        int minX = w, minY = h, maxX = -1, maxY = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[y * w + x])
                {
                    minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
                    minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
                }
        // A ring is the one shape with a hole; the others are told apart by their outline.
        bool ring = EnclosedHolePixels(mask, w, h) >= HoleFraction * count;
        var (shape, iou) = DemoPalette.Shapes.Where(s => (s == DemoShape.Ring) == ring)
            .Select(s => (Shape: s, Iou: TemplateIou(s, mask, w, minX, minY, maxX + 1, maxY + 1)))
            .MaxBy(p => p.Iou);
        return new ShapeReading(colour, shape, iou, count);
    }

    /// <summary>
    /// Background enclosed by foreground, as a share of the foreground, above which a picture shows a ring. Any hole
    /// counts, however small its radius against the template's: a blurred ring's hole shrinks, and is still a hole.
    /// </summary>
    public const double HoleFraction = 0.03;

    /// <summary>Background pixels that no path of background pixels connects to the picture's border.</summary>
    public static int EnclosedHolePixels(bool[] mask, int width, int height)
    {
        var reached = new bool[mask.Length];
        var queue = new Queue<int>();
        for (int p = 0; p < mask.Length; p++)
        {
            int x = p % width, y = p / width;
            if ((x == 0 || y == 0 || x == width - 1 || y == height - 1) && !mask[p]) { reached[p] = true; queue.Enqueue(p); }
        }
        while (queue.Count > 0)
        {
            int p = queue.Dequeue(), x = p % width, y = p / width;
            foreach (int q in (int[])[x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1])
                if (q >= 0 && !mask[q] && !reached[q]) { reached[q] = true; queue.Enqueue(q); }
        }
        int holes = 0;
        for (int p = 0; p < mask.Length; p++) if (!mask[p] && !reached[p]) holes++;
        return holes;
    }

    /// <summary>Pixels that differ from their row's background estimate by more than <see cref="ForegroundThreshold"/>.</summary>
    public static bool[] ForegroundMask(DecodedImage image)
    {
        int w = image.Width, h = image.Height, ch = image.Channels;
        var mask = new bool[w * h];
        for (int y = 0; y < h; y++)
        {
            double br = 0, bg = 0, bb = 0;
            int[] edgeColumns = [.. Enumerable.Range(0, Edge), .. Enumerable.Range(w - Edge, Edge)];
            foreach (int x in edgeColumns)
            {
                int i = (y * w + x) * ch;
                br += image.Pixels[i]; bg += image.Pixels[i + 1]; bb += image.Pixels[i + 2];
            }
            br /= edgeColumns.Length; bg /= edgeColumns.Length; bb /= edgeColumns.Length;
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * ch;
                double dr = image.Pixels[i] - br, dg = image.Pixels[i + 1] - bg, db = image.Pixels[i + 2] - bb;
                mask[y * w + x] = Math.Sqrt(dr * dr + dg * dg + db * db) > ForegroundThreshold;
            }
        }
        return mask;
    }

    // Per-channel median of the foreground: robust to the blended pixels along the edges.
    private static (double R, double G, double B) MedianColour(DecodedImage image, bool[] mask)
    {
        var channels = new List<byte>[] { [], [], [] };
        for (int p = 0; p < mask.Length; p++)
        {
            if (!mask[p]) continue;
            for (int c = 0; c < 3; c++) channels[c].Add(image.Pixels[p * image.Channels + c]);
        }
        if (channels[0].Count == 0) return (128, 128, 128);
        double Median(List<byte> values) => values.Order().ElementAt(values.Count / 2);
        return (Median(channels[0]), Median(channels[1]), Median(channels[2]));
    }

    // IoU of the mask with the template drawn to fill the box [x0, x1) × [y0, y1).
    private static double TemplateIou(DemoShape shape, bool[] mask, int width, int x0, int y0, int x1, int y1)
    {
        int inter = 0, union = 0;
        for (int p = 0; p < mask.Length; p++)
        {
            int x = p % width, y = p / width;
            bool inside = x >= x0 && x < x1 && y >= y0 && y < y1
                && Template(shape, 2.0 * (x + 0.5 - x0) / (x1 - x0) - 1, 2.0 * (y + 0.5 - y0) / (y1 - y0) - 1);
            if (inside && mask[p]) inter++;
            if (inside || mask[p]) union++;
        }
        return union == 0 ? 0 : inter / (double)union;
    }

    // Templates in the unit box [−1, 1]²: each shape as it looks when stretched to its bounding box.
    private static bool Template(DemoShape shape, double u, double v)
    {
        double r2 = u * u + v * v;
        switch (shape)
        {
            case DemoShape.Circle: return r2 <= 1;
            case DemoShape.Square: return true;
            case DemoShape.Ring: return r2 <= 1 && r2 >= 0.55 * 0.55;
            case DemoShape.Triangle:
                // Apex at the top centre, base along the bottom: |u| ≤ (v + 1)/2.
                return Math.Abs(u) <= (v + 1) / 2;
            case DemoShape.Star:
                {
                    // A five-pointed star with notches at half the points' radius: its box spans 2·sin 72° across and
                    // 1 + cos 36° down from the top point. Fold the angle into one half-sector [0°, 36°] from a point and
                    // test against the straight edge from the point (1, 0) to the notch (0.5 cos 36°, 0.5 sin 36°).
                    double x = u * Math.Sin(0.4 * Math.PI), y = (v + 1) / 2 * (1 + Math.Cos(0.2 * Math.PI)) - 1;
                    double radius = Math.Sqrt(x * x + y * y), angle = Math.Atan2(x, -y), half = 0.2 * Math.PI;
                    double phi = Math.Abs(((angle % (2 * half)) + 2 * half) % (2 * half) - half);
                    phi = half - phi;
                    double a = radius * Math.Cos(phi), b = radius * Math.Sin(phi);
                    double px = 0.5 * Math.Cos(half) - 1, py = 0.5 * Math.Sin(half);
                    return px * b - py * (a - 1) >= 0;
                }
            default: throw new ArgumentOutOfRangeException(nameof(shape));
        }
    }
}
