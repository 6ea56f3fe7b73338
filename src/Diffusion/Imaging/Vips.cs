using System.Runtime.InteropServices;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// The few libvips (Debian libvips42) calls we use to decode images. libvips' operation calls are variadic and end
/// with a NULL option list: we declare that NULL as an explicit trailing argument.
/// </summary>
internal static unsafe partial class Vips
{
    private const string Lib = "libvips.so.42";
    private const string GObject = "libgobject-2.0.so.0";
    private const string GLib = "libglib-2.0.so.0";

    public const int InterpretationSrgb = 22;
    public const int FormatUChar = 0;

    private static readonly Lazy<bool> s_initialised = new(() =>
    {
        if (vips_init("charactergen"u8) != 0) throw new ImageDecodeException("libvips failed to initialise: " + TakeError());
        vips_concurrency_set(1); // one image at a time per call; the tensor worker owns the cores
        return true;
    });

    public static void EnsureInitialised() => _ = s_initialised.Value;

    [LibraryImport(Lib)] private static partial int vips_init(ReadOnlySpan<byte> argv0);
    [LibraryImport(Lib)] private static partial void vips_concurrency_set(int n);
    [LibraryImport(Lib)] internal static partial nint vips_image_new_from_buffer(byte* buf, nuint len, byte* options, nint end);
    [LibraryImport(Lib)] internal static partial nint vips_image_new_from_memory_copy(byte* data, nuint size, int width, int height, int bands, int format);
    [LibraryImport(Lib)] internal static partial int vips_image_write_to_buffer(nint image, byte* suffix, out nint buffer, out nuint size, nint end);
    [LibraryImport(Lib)] internal static partial int vips_autorot(nint image, out nint result, nint end);
    [LibraryImport(Lib)] internal static partial int vips_colourspace(nint image, out nint result, int space, nint end);
    [LibraryImport(Lib)] internal static partial int vips_cast(nint image, out nint result, int format, nint end);
    [LibraryImport(Lib)] internal static partial nint vips_image_write_to_memory(nint image, out nuint size);
    [LibraryImport(Lib)] internal static partial int vips_image_get_width(nint image);
    [LibraryImport(Lib)] internal static partial int vips_image_get_height(nint image);
    [LibraryImport(Lib)] internal static partial int vips_image_get_bands(nint image);
    [LibraryImport(Lib)] internal static partial int vips_image_get_format(nint image);
    [LibraryImport(Lib)] internal static partial int vips_image_get_interpretation(nint image);
    [LibraryImport(Lib)] private static partial nint vips_error_buffer();
    [LibraryImport(Lib)] private static partial void vips_error_clear();
    [LibraryImport(GObject)] internal static partial void g_object_unref(nint obj);
    [LibraryImport(GLib)] internal static partial void g_free(nint mem);

    /// <summary>libvips' accumulated error text (thread-global), then cleared. Never marshalled as string: libvips owns it.</summary>
    public static string TakeError()
    {
        string text = Marshal.PtrToStringUTF8(vips_error_buffer()) ?? "";
        vips_error_clear();
        return text.Trim().ReplaceLineEndings(" ");
    }
}
