namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>ComfyUI's socket type names. Types are plain strings so catalogues can add their own.</summary>
public static class IoTypes
{
    public const string Int = "INT";
    public const string Float = "FLOAT";
    public const string String = "STRING";
    public const string Boolean = "BOOLEAN";
    public const string Combo = "COMBO";
    public const string Any = "*";

    public const string Model = "MODEL";
    public const string Clip = "CLIP";
    public const string Vae = "VAE";
    public const string Conditioning = "CONDITIONING";
    public const string Latent = "LATENT";
    public const string Image = "IMAGE";
    public const string Mask = "MASK";
    public const string ControlNet = "CONTROL_NET";
    public const string ClipVision = "CLIP_VISION";
    public const string ClipVisionOutput = "CLIP_VISION_OUTPUT";
    public const string IpAdapter = "IPADAPTER";
    public const string InsightFace = "INSIGHTFACE";
    public const string Sampler = "SAMPLER";
    public const string Sigmas = "SIGMAS";
    public const string Noise = "NOISE";
    public const string Guider = "GUIDER";
    public const string UpscaleModel = "UPSCALE_MODEL";

    /// <summary>Types that the ComfyUI frontend shows as widgets (and that literals may fill).</summary>
    public static bool IsWidget(string type) =>
        type is Int or Float or String or Boolean or Combo;

    /// <summary>
    /// ComfyUI's link compatibility (validate_node_input): equal names, "*" on either side,
    /// or comma-separated type sets that intersect.
    /// </summary>
    public static bool AreCompatible(string received, string expected)
    {
        if (received == expected || received == Any || expected == Any) return true;
        if (!received.Contains(',') && !expected.Contains(',')) return false;
        var wanted = expected.Split(',', StringSplitOptions.TrimEntries);
        foreach (var r in received.Split(',', StringSplitOptions.TrimEntries))
            if (Array.IndexOf(wanted, r) >= 0) return true;
        return false;
    }
}
