using System.Buffers.Binary;
using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Health.V1;

namespace CharacterGen.Server.Cli;

/// <summary>
/// `charactergen health`: one grpc.health.v1.Health/Check call, exit 0 when the answer is SERVING. A probe for the
/// Dockerfile's HEALTHCHECK (and any orchestrator) that needs no grpcurl in the image. Health is exempt from
/// authentication, so no key is needed.
/// </summary>
public static class HealthCommand
{
    public static Command Create(CliOutput output)
    {
        var address = new Option<string>("--address") { Description = "The gRPC endpoint (h2c http:// or TLS https://).", DefaultValueFactory = _ => "http://127.0.0.1:50051" };
        var service = new Option<string>("--service") { Description = "The service to ask about (empty: the server as a whole).", DefaultValueFactory = _ => "" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 5 };
        var command = new Command("health", "Ask a running server's gRPC health service; exit 0 when SERVING, 1 otherwise.") { address, service, timeout };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(address)!, parse.GetValue(service)!, parse.GetValue(timeout), output, ct));
        return command;
    }

    public static async Task<int> RunAsync(string address, string service, double timeoutSeconds, CliOutput output, CancellationToken ct)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            output.Error.WriteLine($"charactergen health: --address must be an http:// or https:// URL, got '{address}'");
            return 2;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/grpc.health.v1.Health/Check"))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(Frame(new HealthCheckRequest { Service = service })),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            request.Headers.TryAddWithoutValidation("te", "trailers");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            byte[] body = await response.Content.ReadAsByteArrayAsync(cts.Token);
            string? grpcStatus = Header(response, "grpc-status");
            if (response.StatusCode != HttpStatusCode.OK || grpcStatus is not (null or "0") || body.Length < 5)
            {
                string message = Header(response, "grpc-message") ?? "";
                output.Error.WriteLine($"charactergen health: {address}: HTTP {(int)response.StatusCode}, grpc-status {grpcStatus ?? "none"} {Uri.UnescapeDataString(message)}".TrimEnd());
                return 1;
            }
            int length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1, 4));
            var answer = HealthCheckResponse.Parser.ParseFrom(body, 5, Math.Min(length, body.Length - 5));
            output.Out.WriteLine(answer.Status switch
            {
                HealthCheckResponse.Types.ServingStatus.Serving => "SERVING",
                HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
                HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
                _ => "UNKNOWN",
            });
            return answer.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidProtocolBufferException)
        {
            output.Error.WriteLine($"charactergen health: {address}: {(e is OperationCanceledException ? "no answer in time" : e.Message)}");
            return 1;
        }
    }

    // A gRPC message frame: uncompressed flag, big-endian length, the message.
    private static byte[] Frame(IMessage message)
    {
        byte[] payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1, 4), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    // Trailers-only answers carry grpc-status in the headers; normal ones in the trailers.
    private static string? Header(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var t) ? t.FirstOrDefault()
        : response.Headers.TryGetValues(name, out var h) ? h.FirstOrDefault() : null;
}
