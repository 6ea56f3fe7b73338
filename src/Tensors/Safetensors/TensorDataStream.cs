namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// The write-only window the streaming writer hands to its callback for one tensor: it forwards to
/// the file and refuses to let the callback write more (or, checked afterwards, fewer) bytes than
/// the header declared, which would corrupt every later tensor.
/// </summary>
internal sealed class TensorDataStream(Stream file, SafetensorsEntry entry) : Stream
{
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => entry.ByteLength;

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > entry.ByteLength - _written)
            throw new InvalidOperationException(
                $"tensor {SafetensorsFormatException.Quote(entry.Name)}: more than its {entry.ByteLength} bytes were written");
        file.Write(buffer);
        _written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Throws unless exactly the declared number of bytes was written.</summary>
    public void EnsureComplete()
    {
        if (_written != entry.ByteLength)
            throw new InvalidOperationException(
                $"tensor {SafetensorsFormatException.Quote(entry.Name)}: {_written} of its {entry.ByteLength} bytes were written");
    }

    public override void Flush() { } // the writer flushes the file once, at the end
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
