using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using CharacterGen.Grpc.Bench.Protos;
using CharacterGen.Protos.V1;
using Google.Protobuf;

namespace CharacterGen.Grpc.Bench;

/// <summary>
/// One client for both servers: HttpClient over h2c with gRPC framing by hand (no client library is
/// restorable here), so the client's own cost is the same whichever server answers.
/// </summary>
public sealed class BenchClient(Uri address) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };

    public sealed record Latency(double P50Us, double P99Us, double MeanUs, int Calls);

    /// <summary>Sequential unary calls (one in flight): round-trip time of each.</summary>
    public async Task<Latency> PingAsync(int warmup, int calls)
    {
        var body = Frame(new PingRequest { Text = "ping" });
        for (var i = 0; i < warmup; i++) await CallAsync("/cgbench.v1.Bench/Ping", body, null);
        var samples = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await CallAsync("/cgbench.v1.Bench/Ping", body, null);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        return new Latency(samples[calls / 2], samples[(int)(calls * 0.99)], samples.Average(), calls);
    }

    /// <summary>Events per second of one server-streaming call, from sending the request to the last message.</summary>
    public async Task<double> StreamAsync(string path, IMessage request, int expected)
    {
        var start = Stopwatch.GetTimestamp();
        var (count, last) = await CallAsync(path, Frame(request), JobEvent.Parser);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (count < expected) throw new InvalidOperationException($"{path}: {count} messages, expected at least {expected}");
        if (last is null) throw new InvalidOperationException($"{path}: no last event");
        return count / seconds;
    }

    /// <summary>One call: counts response messages (parsing only the last), checks grpc-status 0.</summary>
    private async Task<(int Count, JobEvent? Last)> CallAsync(string path, byte[] body, MessageParser<JobEvent>? parser)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var header = new byte[5];
        var payload = new byte[256];
        var count = 0;
        var lastLength = 0;
        while (await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false) == 5)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
            if (payload.Length < length) payload = new byte[length];
            await stream.ReadExactlyAsync(payload.AsMemory(0, length));
            lastLength = length;
            count++;
        }
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.First()
            : response.Headers.TryGetValues("grpc-status", out var early) ? early.First() : "?";
        if (status != "0") throw new InvalidOperationException($"{path} ended with grpc-status {status}");
        return (count, parser is null || count == 0 ? null : parser.ParseFrom(payload, 0, lastLength));
    }

    private static byte[] Frame(IMessage message)
    {
        var payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public void Dispose() => _http.Dispose();
}
