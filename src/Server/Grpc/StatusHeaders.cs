using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Http;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Writes a status as <c>grpc-status</c>, <c>grpc-message</c> (percent-encoded) and, with details,
/// <c>grpc-status-details-bin</c> (base64 of <c>google.rpc.Status</c>) into trailers, or into the
/// headers of a Trailers-Only response.
/// </summary>
public static class StatusHeaders
{
    public static void Write(IHeaderDictionary target, GrpcStatus status)
    {
        target[GrpcProtocol.Status] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Message))
            target[GrpcProtocol.Message] = PercentEncoding.Encode(status.Message);
        if (status.Details.Count > 0)
            target[GrpcProtocol.StatusDetails] = Base64.EncodeUnpadded(ToRichStatus(status).ToByteArray());
    }

    public static Google.Rpc.Status ToRichStatus(GrpcStatus status)
    {
        var rich = new Google.Rpc.Status { Code = (int)status.Code, Message = status.Message };
        foreach (var detail in status.Details)
            rich.Details.Add(Any.Pack(detail));
        return rich;
    }
}
