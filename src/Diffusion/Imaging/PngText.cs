using System.Buffers.Binary;
using System.Text;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>Reads the tEXt / iTXt chunks of a PNG (ComfyUI stores `prompt` and `workflow` there).</summary>
public static class PngText
{
    /// <summary>True when the bytes start with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> data) => data.StartsWith(PngWriter.Signature);

    /// <summary>Keyword → text (a repeated keyword keeps its last text).</summary>
    public static IReadOnlyDictionary<string, string> Read(ReadOnlySpan<byte> png)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!IsPng(png)) return result;
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png[pos..]);
            if (length < 0 || pos + 12 + (long)length > png.Length) break;
            string type = Encoding.ASCII.GetString(png.Slice(pos + 4, 4));
            ReadOnlySpan<byte> data = png.Slice(pos + 8, length);
            int nul = data.IndexOf((byte)0);
            if (nul > 0 && type == "tEXt")
                result[Encoding.Latin1.GetString(data[..nul])] = Encoding.Latin1.GetString(data[(nul + 1)..]);
            else if (nul > 0 && type == "iTXt" && data.Length >= nul + 3 && data[nul + 1] == 0)
            {
                // keyword \0 compression-flag method language \0 translated \0 text
                ReadOnlySpan<byte> rest = data[(nul + 3)..];
                int lang = rest.IndexOf((byte)0);
                if (lang < 0) break;
                rest = rest[(lang + 1)..];
                int translated = rest.IndexOf((byte)0);
                if (translated < 0) break;
                result[Encoding.Latin1.GetString(data[..nul])] = Encoding.UTF8.GetString(rest[(translated + 1)..]);
            }
            if (type == "IEND") break;
            pos += 12 + length;
        }
        return result;
    }
}
