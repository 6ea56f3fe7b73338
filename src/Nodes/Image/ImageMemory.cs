using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;

namespace CharacterGen.Nodes.Image;

/// <summary>
/// Peak memory of the image nodes, from shapes known before anything runs: a file's header for the loaders, the
/// upstream IMAGE's shape for resizes and savers. Like <see cref="MemoryCosts"/>, counted on the high side from what
/// the code holds at once, so a request that cannot fit is refused at validation instead of failing mid-job.
/// </summary>
internal static class ImageMemory
{
    /// <summary>
    /// LoadImage: the file read and copied for libvips, libvips' decoded pixels (at the file's sample size) and its
    /// 8-bit output with the managed copy, then the byte tensor, its float32 conversion and scaling, the RGB image and
    /// the mask. The outputs are the IMAGE [1, H, W, 3] and the MASK (1 − alpha, or 64×64 without alpha).
    /// </summary>
    public static MemoryEstimate Load(ImageHeader header, long fileBytes)
    {
        var image = new ImageShape(1, header.Height, header.Width);
        var mask = header.Channels == 4 ? new MaskShape(1, header.Height, header.Width) : new MaskShape(1, 64, 64);
        return new MemoryEstimate(DecodeBytes(header, fileBytes) + image.Bytes + mask.Bytes, [image, mask]);
    }

    /// <summary>LoadImageMask: the same decode, one [1, H, W] channel out (an all-zero mask of the image's size when it has no alpha).</summary>
    public static MemoryEstimate LoadMask(ImageHeader header, long fileBytes)
    {
        var mask = new MaskShape(1, header.Height, header.Width);
        return new MemoryEstimate(DecodeBytes(header, fileBytes) + mask.Bytes, [mask]);
    }

    /// <summary>
    /// LoadImageTextDataSetFromFolder: every image stays loaded as an IMAGE and its mask (a repeated folder's images
    /// once per repeat), decoded one at a time.
    /// </summary>
    public static MemoryEstimate LoadAll(IEnumerable<(ImageHeader Header, long FileBytes)> files)
    {
        long held = 0, decode = 0;
        foreach (var (header, fileBytes) in files)
        {
            var loaded = Load(header, fileBytes);
            held += loaded.Outputs!.Sum(o => o switch { ImageShape i => i.Bytes, MaskShape m => m.Bytes, _ => 0 });
            decode = Math.Max(decode, DecodeBytes(header, fileBytes));
        }
        return new MemoryEstimate(held + decode);
    }

    /// <summary>
    /// SaveImage and PreviewImage: the batch, and for the image being written its float copies (× 255, clamped), the
    /// 8-bit pixels and their managed copy, and the PNG's compressed buffers (up to twice the raw size as they grow).
    /// </summary>
    public static MemoryEstimate Save(ImageShape? images)
    {
        if (images is null) return MemoryEstimate.Unknown;
        long one = images.Pixels * images.Channels;
        return new MemoryEstimate(images.Bytes + 2 * one * MemoryCosts.FloatBytes + 2 * one + 3 * 2 * one);
    }

    /// <summary>
    /// ImageScale(By): the input, a channels-first copy, the output and its channels-last copy, plus a float64 working
    /// copy for the exact filters (Lanczos).
    /// </summary>
    public static MemoryEstimate Resize(ImageShape? input, Func<ImageShape, (long Height, long Width)> size)
    {
        if (input is null) return MemoryEstimate.Unknown;
        var (h, w) = size(input);
        var output = input with { Height = h, Width = w };
        return new MemoryEstimate(2 * input.Bytes + 4 * output.Bytes, [output]);
    }

    private static long DecodeBytes(ImageHeader header, long fileBytes)
    {
        long vips = header.Pixels * header.FileBands * header.BytesPerSample;
        long bytes = header.Pixels * header.Channels;
        // encoded ×2, libvips' pixels, its 8-bit output + managed copy + byte tensor, float32 ×2
        return 2 * fileBytes + vips + 3 * bytes + 2 * bytes * MemoryCosts.FloatBytes;
    }
}
