namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>gRPC's header and trailer names, as the tests' own wire client reads them.</summary>
public static class GrpcProtocol
{
    public const string Status = "grpc-status";
    public const string Message = "grpc-message";
    public const string StatusDetails = "grpc-status-details-bin";
    public const string Encoding = "grpc-encoding";
    public const string AcceptEncoding = "grpc-accept-encoding";

    /// <summary>grpc-message's percent-encoding undone (UTF-8 bytes as %XX).</summary>
    public static string DecodeMessage(string encoded) => Uri.UnescapeDataString(encoded);

    /// <summary>"-bin" values are base64, with or without padding.</summary>
    public static byte[] DecodeBinary(string encoded) =>
        Convert.FromBase64String(encoded.PadRight(encoded.Length + (4 - encoded.Length % 4) % 4, '='));
}
