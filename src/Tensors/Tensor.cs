using System.Runtime.InteropServices;
using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>
/// A libtorch tensor held through a SafeHandle. A tensor created while a <see cref="DisposeScope"/> is active on the
/// thread belongs to that scope and is disposed with it, unless moved out (<see cref="MoveToOuterScope"/>,
/// <see cref="DetachFromScope"/>). Metadata (shape, dtype, device) is read once and cached: it never changes.
/// </summary>
public sealed partial class Tensor : SafeHandle
{
    private static long s_live;
    private TensorInfo? _info;

    /// <summary>Managed tensors created and not yet released, process-wide. The leak oracle for tests.</summary>
    public static long LiveCount => Interlocked.Read(ref s_live);

    // Used by the interop marshaller only.
    public Tensor() : base(IntPtr.Zero, ownsHandle: true) { }

    private Tensor(nint native) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(native);
        Interlocked.Increment(ref s_live);
        DisposeScope.Current?.Adopt(this);
    }

    /// <summary>Wraps the result of a native call that produced one tensor.</summary>
    internal static Tensor FromNative(int status, nint native)
    {
        NativeStatus.Check(status);
        return new Tensor(native);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.cg_tensor_free(handle);
        Interlocked.Decrement(ref s_live);
        return true;
    }

    /// <summary>The scope that will dispose this tensor, if any.</summary>
    internal DisposeScope? Scope { get; set; }

    /// <summary>Hands this tensor to the scope enclosing its current one (or to the caller if there is none).</summary>
    public Tensor MoveToOuterScope()
    {
        DisposeScope? outer = Scope?.Outer;
        Scope?.Release(this);
        outer?.Adopt(this);
        return this;
    }

    /// <summary>Takes this tensor out of every scope: the caller now owns it and must dispose it.</summary>
    public Tensor DetachFromScope()
    {
        Scope?.Release(this);
        return this;
    }

    private TensorInfo Info => _info ??= TensorInfo.Read(this);

    public long[] Shape => (long[])Info.Shape.Clone();
    public int Dim => Info.Shape.Length;
    public DType DType => Info.DType;
    public Device Device => Info.Device;
    public long NumElements => Info.NumElements;

    /// <summary>Size of one dimension; negative indices count from the end.</summary>
    public long Size(int dim) => Info.Shape[dim < 0 ? dim + Info.Shape.Length : dim];

    public bool RequiresGrad
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_tensor_requires_grad(this, out int r));
            return r != 0;
        }
        set => NativeStatus.Check(NativeMethods.cg_tensor_set_requires_grad(this, value ? 1 : 0));
    }

    public bool IsContiguous
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_tensor_is_contiguous(this, out int r));
            return r != 0;
        }
    }

    public override string ToString() =>
        IsClosed ? "Tensor(disposed)" : $"Tensor([{string.Join(", ", Info.Shape)}], {DType.TorchName()}, {Device})";

    private sealed record TensorInfo(long[] Shape, DType DType, Device Device)
    {
        public long NumElements { get; } = Shape.Aggregate(1L, (a, b) => a * b);

        public static unsafe TensorInfo Read(Tensor t)
        {
            const int Cap = 16;
            long* shape = stackalloc long[Cap];
            NativeStatus.Check(NativeMethods.cg_tensor_info(t, out int dtype, out int dt, out int di, shape, Cap, out int ndim));
            if (ndim > Cap) throw new TorchException($"tensor rank {ndim} exceeds {Cap}");
            if (dtype < 0) throw new TorchException("tensor has a dtype this API does not support");
            var dims = new ReadOnlySpan<long>(shape, ndim).ToArray();
            var device = dt == (int)DeviceType.Cuda ? Device.Cuda(di) : Device.Cpu;
            return new TensorInfo(dims, (DType)dtype, device);
        }
    }
}
