namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// Decodes PNG, JPEG, WebP (and whatever else libvips reads) into 8-bit sRGB, applying the EXIF orientation as
/// ComfyUI's LoadImage does (ImageOps.exif_transpose). Grey images become RGB; alpha is kept; 16-bit becomes 8-bit.
/// Animated files contribute their first frame.
/// </summary>
public static unsafe class ImageDecoder
{
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty) throw new ImageDecodeException("the image file is empty");
        Vips.EnsureInitialised();
        nint image;
        // Truncated or corrupt data is an error, not a partly grey image (libvips' default is to carry on).
        fixed (byte* options = "fail_on=truncated\0"u8)
        fixed (byte* p = encoded) image = Vips.vips_image_new_from_buffer(p, (nuint)encoded.Length, options, 0);
        if (image == 0) throw new ImageDecodeException("not a readable image: " + Vips.TakeError());
        try
        {
            image = Step(image, Vips.vips_autorot(image, out nint rotated, 0), rotated, "rotate");
            if (Vips.vips_image_get_interpretation(image) != Vips.InterpretationSrgb)
                image = Step(image, Vips.vips_colourspace(image, out nint srgb, Vips.InterpretationSrgb, 0), srgb, "convert to sRGB");
            if (Vips.vips_image_get_format(image) != Vips.FormatUChar)
                image = Step(image, Vips.vips_cast(image, out nint u8, Vips.FormatUChar, 0), u8, "convert to 8-bit");
            int width = Vips.vips_image_get_width(image), height = Vips.vips_image_get_height(image);
            int bands = Vips.vips_image_get_bands(image);
            nint memory = Vips.vips_image_write_to_memory(image, out nuint size);
            if (memory == 0) throw new ImageDecodeException("could not decode the pixels: " + Vips.TakeError());
            try
            {
                if ((long)size != (long)width * height * bands) throw new ImageDecodeException("decoded pixel buffer has an unexpected size");
                return new DecodedImage(width, height, bands, new ReadOnlySpan<byte>((void*)memory, (int)size).ToArray());
            }
            finally
            {
                Vips.g_free(memory);
            }
        }
        finally
        {
            Vips.g_object_unref(image);
        }
    }

    // Each libvips operation makes a new image; the previous one is released here, or the result on failure.
    private static nint Step(nint previous, int status, nint result, string what)
    {
        if (status != 0) throw new ImageDecodeException($"could not {what} the image: {Vips.TakeError()}");
        Vips.g_object_unref(previous);
        return result;
    }

    /// <summary>Encodes pixels with libvips in the format named by the suffix (".jpg", ".webp", ".png"). For tests and previews.</summary>
    public static byte[] EncodeWithVips(DecodedImage image, string suffix)
    {
        Vips.EnsureInitialised();
        nint vimg;
        fixed (byte* p = image.Pixels)
            vimg = Vips.vips_image_new_from_memory_copy(p, (nuint)image.Pixels.Length, image.Width, image.Height, image.Channels, Vips.FormatUChar);
        if (vimg == 0) throw new ImageDecodeException("could not wrap pixels: " + Vips.TakeError());
        try
        {
            byte[] suffixBytes = System.Text.Encoding.ASCII.GetBytes(suffix + "\0");
            int status;
            nint buffer;
            nuint size;
            fixed (byte* s = suffixBytes) status = Vips.vips_image_write_to_buffer(vimg, s, out buffer, out size, 0);
            if (status != 0) throw new ImageDecodeException($"could not encode {suffix}: {Vips.TakeError()}");
            try { return new ReadOnlySpan<byte>((void*)buffer, (int)size).ToArray(); }
            finally { Vips.g_free(buffer); }
        }
        finally
        {
            Vips.g_object_unref(vimg);
        }
    }
}
