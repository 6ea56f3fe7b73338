using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// The two Kestrel listeners and, once the server has started, the ports they actually bound
/// (which differ from the options when those ask for port 0).
/// </summary>
public sealed class ServerEndpoints
{
    private ListenOptions? _grpc;
    private ListenOptions? _http;

    public bool GrpcUsesTls { get; private set; }

    public int GrpcPort => Port(_grpc);

    public int HttpPort => Port(_http);

    /// <summary>Address for clients: http://127.0.0.1:port or https://…; valid after start.</summary>
    public Uri GrpcAddress => Address(_grpc, GrpcUsesTls);

    public Uri HttpAddress => Address(_http, tls: false);

    internal void Configure(KestrelServerOptions kestrel, ServerOptions options)
    {
        kestrel.AddServerHeader = false;
        ServerOptions.TryParseListenAddress(options.ListenAddress, out var address);
        var certificate = options.Tls.Enabled ? options.Tls.LoadCertificate() : null;
        kestrel.Listen(address, options.GrpcPort, listen =>
        {
            // Without TLS there is no ALPN, so the port must be HTTP/2-only (prior knowledge).
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null) listen.UseHttps(certificate);
            _grpc = listen;
        });
        kestrel.Listen(address, options.HttpPort, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            _http = listen;
        });
        GrpcUsesTls = certificate is not null;
    }

    private static int Port(ListenOptions? listen) =>
        (listen?.EndPoint as IPEndPoint)?.Port ?? throw new InvalidOperationException("The server has not been configured.");

    private static Uri Address(ListenOptions? listen, bool tls)
    {
        var endPoint = listen?.EndPoint as IPEndPoint ?? throw new InvalidOperationException("The server has not been configured.");
        var host = endPoint.Address.Equals(IPAddress.Any) ? "127.0.0.1"
            : endPoint.Address.Equals(IPAddress.IPv6Any) ? "[::1]"
            : endPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]"
            : endPoint.Address.ToString();
        return new Uri($"{(tls ? "https" : "http")}://{host}:{endPoint.Port}");
    }
}
