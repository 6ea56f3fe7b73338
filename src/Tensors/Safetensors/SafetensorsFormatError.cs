namespace CharacterGen.Tensors.Safetensors;

/// <summary>Why a file was refused; mirrors the reference's <c>SafeTensorError</c> kinds, a little finer.</summary>
public enum SafetensorsFormatError
{
    /// <summary>Empty, or shorter than the 8-byte header length (<c>HeaderTooSmall</c>).</summary>
    FileTooSmall,
    /// <summary>The header length points past the end of the file (<c>InvalidHeaderLength</c>).</summary>
    HeaderLengthBeyondFile,
    /// <summary>The header length is above <see cref="SafetensorsLimits.MaxHeaderBytes"/> (<c>HeaderTooLarge</c>).</summary>
    HeaderTooLarge,
    /// <summary>The header bytes are not UTF-8 (<c>InvalidHeader</c>).</summary>
    HeaderNotUtf8,
    /// <summary>The header does not start with <c>{</c> (<c>InvalidHeaderStart</c>).</summary>
    InvalidHeaderStart,
    /// <summary>The header is not well-formed JSON (<c>InvalidHeaderDeserialization</c>).</summary>
    InvalidJson,
    /// <summary>A key appears twice in one JSON object (tensor names included).</summary>
    DuplicateKey,
    /// <summary>More tensors than <see cref="SafetensorsLimits.MaxTensorCount"/>.</summary>
    TooManyTensors,
    /// <summary><c>__metadata__</c> is not a string→string object.</summary>
    InvalidMetadata,
    /// <summary>A tensor's <c>dtype</c>, <c>shape</c> or <c>data_offsets</c> is missing or ill-typed.</summary>
    InvalidTensorInfo,
    /// <summary>A dtype string this reader does not know.</summary>
    UnknownDType,
    /// <summary>A shape holds a negative dimension.</summary>
    NegativeDimension,
    /// <summary>Element count or byte size does not fit in 64 bits (<c>ValidationOverflow</c>).</summary>
    SizeOverflow,
    /// <summary><c>end &lt; begin</c>, a gap or an overlap between tensors (<c>InvalidOffset</c>).</summary>
    InvalidOffsets,
    /// <summary>The byte span differs from shape × element size (<c>TensorInvalidInfo</c>).</summary>
    SizeMismatch,
    /// <summary>Tensors reach past the end of the file (<c>MetadataIncompleteBuffer</c>).</summary>
    TruncatedData,
    /// <summary>Bytes after the last tensor (<c>MetadataIncompleteBuffer</c>).</summary>
    TrailingBytes,
    /// <summary>A pickle checkpoint (.ckpt/.pt/.pth/.bin or pickle/zip magic); never parsed.</summary>
    PickleFormat,
}
