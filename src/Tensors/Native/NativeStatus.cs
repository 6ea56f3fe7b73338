using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;

namespace CharacterGen.Tensors.Native;

/// <summary>Status codes of the native shim (native/src/cg_common.h) and their translation into exceptions.</summary>
internal static unsafe class NativeStatus
{
    public const int Ok = 0;
    public const int Torch = 1;
    public const int OutOfMemory = 2;
    public const int Argument = 3;
    public const int NotImplemented = 4;
    public const int Std = 5;
    public const int Unknown = 6;

    /// <summary>Throws the typed exception for a failed native call; the message is libtorch's.</summary>
    public static void Check(int status)
    {
        if (status != Ok) Throw(status);
    }

    [DoesNotReturn]
    private static void Throw(int status)
    {
        string message = LastError();
        throw status switch
        {
            OutOfMemory => new TorchOutOfMemoryException(message),
            Argument => new TorchArgumentException(message),
            NotImplemented => new TorchNotImplementedException(message),
            _ => new TorchException(message),
        };
    }

    /// <summary>The calling thread's last native error message.</summary>
    public static string LastError()
    {
        Span<byte> small = stackalloc byte[1024];
        long length;
        fixed (byte* p = small) length = NativeMethods.cg_last_error(p, small.Length);
        if (length < small.Length) return Encoding.UTF8.GetString(small[..(int)length]);
        var large = new byte[length + 1];
        fixed (byte* p = large) NativeMethods.cg_last_error(p, large.Length);
        return Encoding.UTF8.GetString(large, 0, (int)length);
    }

    /// <summary>Reads a short string the shim writes into a caller buffer.</summary>
    public static string ReadString(delegate*<byte*, long, int> call)
    {
        Span<byte> buf = stackalloc byte[256];
        fixed (byte* p = buf)
        {
            Check(call(p, buf.Length));
            return Marshal.PtrToStringUTF8((nint)p) ?? "";
        }
    }
}
