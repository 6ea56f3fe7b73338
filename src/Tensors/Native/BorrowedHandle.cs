namespace CharacterGen.Tensors.Native;

/// <summary>
/// The raw handle of an optional tensor argument (zero for none), kept alive for the duration of a native call.
/// Required arguments are marshalled as SafeHandles, which do this themselves; a null SafeHandle cannot be.
/// </summary>
internal ref struct BorrowedHandle
{
    private readonly Tensor? _tensor;
    private bool _added;

    public BorrowedHandle(Tensor? tensor)
    {
        _tensor = tensor;
        _added = false;
        tensor?.DangerousAddRef(ref _added);
        Handle = tensor?.DangerousGetHandle() ?? 0;
    }

    public nint Handle { get; }

    public void Dispose()
    {
        if (_added) _tensor!.DangerousRelease();
        _added = false;
    }
}
