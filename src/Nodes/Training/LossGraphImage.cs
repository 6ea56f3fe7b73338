using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Training;

/// <summary>
/// LossGraphNode's picture (ComfyUI: 840×520, white, black axes at a 40-pixel margin, the loss as a blue line scaled
/// between its minimum and maximum). ComfyUI also prints the axis names and the min/max values; this draws no text.
/// </summary>
internal static class LossGraphImage
{
    private const int Width = 800, Height = 480, Margin = 40;

    /// <summary>IMAGE [1, 520, 840, 3], float32 in [0, 1].</summary>
    public static Tensor Draw(IReadOnlyList<double> losses)
    {
        int w = Width + Margin, h = Height + Margin;
        float[] pixels = new float[w * h * 3];
        Array.Fill(pixels, 1f);
        void Dot(int x, int y, float r, float g, float b)
        {
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                {
                    int px = x + dx, py = y + dy;
                    if (px < 0 || py < 0 || px >= w || py >= h) continue;
                    int at = (py * w + px) * 3;
                    (pixels[at], pixels[at + 1], pixels[at + 2]) = (r, g, b);
                }
        }
        void Line(int x0, int y0, int x1, int y1, float r, float g, float b)
        {
            int n = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
            for (int k = 0; k <= n; k++)
                Dot(x0 + (n == 0 ? 0 : (x1 - x0) * k / n), y0 + (n == 0 ? 0 : (y1 - y0) * k / n), r, g, b);
        }

        if (losses.Count > 0)
        {
            double min = losses.Min(), max = losses.Max(), span = max - min;
            int Y(double l) => Height - (int)((span > 0 ? (l - min) / span : 0.5) * Height);
            (int X, int Y) previous = (Margin, Y(losses[0]));
            for (int i = 1; i < losses.Count; i++)
            {
                (int X, int Y) next = (Margin + (int)((double)i / losses.Count * Width), Y(losses[i]));
                Line(previous.X, previous.Y, next.X, next.Y, 0, 0, 1);
                previous = next;
            }
        }
        Line(Margin, 0, Margin, Height, 0, 0, 0);
        Line(Margin, Height, Width + Margin, Height, 0, 0, 0);
        return Torch.FromArray<float>(pixels, [1, h, w, 3]);
    }
}
