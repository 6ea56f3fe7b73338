namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// Inside tests for the demo shapes in a frame centred on the shape and scaled by its radius r (the shape spans about
/// [−1, 1]² in (u, v) = ((x − cx)/r, (y − cy)/r), y pointing down). Upright, unrotated.
/// </summary>
public static class ShapeGeometry
{
    /// <summary>Inner radius of the ring, as a fraction of the outer.</summary>
    public const double RingInner = 0.55;

    /// <summary>Inner radius of the star's five notches, as a fraction of its points' radius (a regular pentagram has 0.38).</summary>
    public const double StarInner = 0.5;

    private static readonly (double U, double V)[] s_triangle = Polygon(3, 1.1, 1.1, 0.2);
    private static readonly (double U, double V)[] s_star = Polygon(5, 1.08, 1.08 * StarInner, 0.1);

    public static bool Contains(DemoShape shape, double u, double v) => shape switch
    {
        DemoShape.Circle => u * u + v * v <= 1,
        DemoShape.Square => Math.Abs(u) <= 0.85 && Math.Abs(v) <= 0.85,
        DemoShape.Triangle => InPolygon(s_triangle, u, v),
        DemoShape.Star => InPolygon(s_star, u, v),
        DemoShape.Ring => u * u + v * v <= 1 && u * u + v * v >= RingInner * RingInner,
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    // A star polygon with `points` outer vertices (first one straight up) alternating with inner ones; with equal radii it
    // is a regular 2·points-gon. `down` shifts it so the shape's box is centred (a triangle's centroid sits low).
    private static (double, double)[] Polygon(int points, double outer, double inner, double down)
    {
        bool star = inner < outer;
        int n = star ? 2 * points : points;
        var vertices = new (double, double)[n];
        for (int i = 0; i < n; i++)
        {
            double radius = star && i % 2 == 1 ? inner : outer;
            double angle = -Math.PI / 2 + i * 2 * Math.PI / n;
            vertices[i] = (radius * Math.Cos(angle), radius * Math.Sin(angle) + down);
        }
        return vertices;
    }

    // Even-odd rule ray casting.
    private static bool InPolygon((double U, double V)[] poly, double u, double v)
    {
        bool inside = false;
        for (int i = 0, j = poly.Length - 1; i < poly.Length; j = i++)
        {
            var (ui, vi) = poly[i];
            var (uj, vj) = poly[j];
            if ((vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui) inside = !inside;
        }
        return inside;
    }
}
