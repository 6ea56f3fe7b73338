using NetVips;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// Decodes PNG, JPEG, WebP (and whatever else libvips reads) into 8-bit sRGB through NetVips, applying the EXIF
/// orientation as ComfyUI's LoadImage does (ImageOps.exif_transpose). Grey images become RGB; alpha is kept; 16-bit
/// becomes 8-bit. Animated files contribute their first frame. The size is checked from the header, before any pixel
/// is decoded, so a small file that claims a huge image is refused without the memory.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Pillow's decompression-bomb limit (2 × Image.MAX_IMAGE_PIXELS), which ComfyUI's LoadImage inherits.</summary>
    public const long DefaultMaxPixels = 2 * 89_478_485L;

    private static readonly Lazy<bool> s_initialised = new(() =>
    {
        if (!ModuleInitializer.VipsInitialized)
            throw new ImageDecodeException("libvips failed to initialise: " + ModuleInitializer.Exception?.Message);
        NetVips.NetVips.Concurrency = 1; // one image at a time per call; the tensor worker owns the cores
        Cache.Max = 0; // decodes are one-off; the operation cache would only hold on to pixels
        return true;
    });

    /// <param name="maxPixels">Images with more pixels than this (width × height, from the header) are refused.</param>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, long maxPixels = DefaultMaxPixels)
    {
        if (encoded.IsEmpty) throw new ImageDecodeException("the image file is empty");
        _ = s_initialised.Value;
        Image? image = null;
        try
        {
            // Truncated or corrupt data is an error, not a partly grey image (libvips' default is to carry on).
            try { image = Image.NewFromBuffer(encoded.ToArray(), failOn: Enums.FailOn.Truncated); }
            catch (VipsException e) { throw new ImageDecodeException("not a readable image: " + Message(e)); }
            if ((long)image.Width * image.Height > maxPixels)
                throw new ImageDecodeException($"the image is {image.Width}x{image.Height}, more than {maxPixels} pixels");

            image = Step(image, i => i.Autorot(), "rotate");
            if (image.Interpretation != Enums.Interpretation.Srgb)
                image = Step(image, i => i.Colourspace(Enums.Interpretation.Srgb), "convert to sRGB");
            if (image.Format != Enums.BandFormat.Uchar)
                image = Step(image, i => i.Cast(Enums.BandFormat.Uchar), "convert to 8-bit");
            byte[] pixels;
            try { pixels = image.WriteToMemory<byte>(); }
            catch (VipsException e) { throw new ImageDecodeException("could not decode the pixels: " + Message(e)); }
            if (pixels.LongLength != (long)image.Width * image.Height * image.Bands)
                throw new ImageDecodeException("decoded pixel buffer has an unexpected size");
            return new DecodedImage(image.Width, image.Height, image.Bands, pixels);
        }
        finally
        {
            image?.Dispose();
        }
    }

    /// <summary>
    /// The size <see cref="Decode"/> would produce for the file at <paramref name="path"/>, from its header alone (no
    /// pixel is decoded, only the first bytes are read): sides swapped when the EXIF orientation rotates by 90°, and the
    /// channel count after conversion to 8-bit sRGB (3, or 4 with alpha).
    /// </summary>
    /// <exception cref="ImageDecodeException">The file is not an image libvips can read.</exception>
    public static ImageHeader ReadHeader(string path)
    {
        _ = s_initialised.Value;
        try
        {
            // A source opens the file by name without libvips' "name[options]" parsing of file names.
            using var source = Source.NewFromFile(path);
            using var image = Image.NewFromSource(source, access: Enums.Access.Sequential);
            bool turned = image.GetTypeOf("orientation") != IntPtr.Zero && image.Get("orientation") is int o && o is >= 5 and <= 8;
            int bytesPerSample = image.Format switch
            {
                Enums.BandFormat.Uchar or Enums.BandFormat.Char => 1,
                Enums.BandFormat.Ushort or Enums.BandFormat.Short => 2,
                Enums.BandFormat.Double or Enums.BandFormat.Dpcomplex => 8,
                _ => 4,
            };
            return new ImageHeader(turned ? image.Height : image.Width, turned ? image.Width : image.Height,
                image.HasAlpha() ? 4 : 3, image.Bands, bytesPerSample);
        }
        catch (VipsException e)
        {
            throw new ImageDecodeException("not a readable image: " + Message(e));
        }
    }

    /// <summary>Encodes pixels with libvips in the format named by the suffix (".jpg", ".webp", ".png"). For tests.</summary>
    public static byte[] EncodeWithVips(DecodedImage image, string suffix)
    {
        _ = s_initialised.Value;
        try
        {
            using var wrapped = Image.NewFromMemory(image.Pixels, image.Width, image.Height, image.Channels, Enums.BandFormat.Uchar);
            return wrapped.WriteToBuffer(suffix);
        }
        catch (VipsException e)
        {
            throw new ImageDecodeException($"could not encode {suffix}: {Message(e)}");
        }
    }

    // Each libvips operation makes a new image; the previous one is released here, or left to the caller on failure.
    private static Image Step(Image previous, Func<Image, Image> operation, string what)
    {
        Image next;
        try { next = operation(previous); }
        catch (VipsException e) { throw new ImageDecodeException($"could not {what} the image: {Message(e)}"); }
        previous.Dispose();
        return next;
    }

    private static string Message(VipsException e) => e.Message.Trim().ReplaceLineEndings(" ");
}
