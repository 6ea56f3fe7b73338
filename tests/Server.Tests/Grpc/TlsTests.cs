using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class TlsTests
{
    [Test]
    public async Task With_a_certificate_the_grpc_port_speaks_http2_over_tls()
    {
        var directory = Directory.CreateTempSubdirectory("cg-tls-");
        try
        {
            using var certificate = SelfSigned();
            var pfx = Path.Combine(directory.FullName, "server.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pw"));
            await using var server = await TestServer.StartAsync(o => o with { Tls = new TlsOptions { CertificatePath = pfx, Password = "pw" } });
            var handler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
                },
            };
            using var client = new GrpcTestClient(server.GrpcAddress, handler);

            var result = await client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "secure" });

            Assert.That(server.GrpcAddress.Scheme, Is.EqualTo("https"));
            Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
            Assert.That(result.Single(EchoResponse.Parser).Text, Is.EqualTo("secure"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
