using System.Security.Cryptography.X509Certificates;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// TLS for the gRPC port. With no certificate the port speaks cleartext HTTP/2 (h2c), which is
/// fine on loopback or behind a TLS-terminating proxy.
/// </summary>
public sealed record TlsOptions
{
    /// <summary>A PEM certificate (with <see cref="KeyPath"/>, or with the key in the same file) or a PKCS#12 (.pfx/.p12) file.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>PEM private key for a PEM <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; init; }

    /// <summary>Password of a PKCS#12 file, if it has one.</summary>
    public string? Password { get; init; }

    public bool Enabled => !string.IsNullOrEmpty(CertificatePath);

    public X509Certificate2 LoadCertificate()
    {
        var path = CertificatePath ?? throw new InvalidOperationException("No TLS certificate is configured.");
        if (!string.IsNullOrEmpty(KeyPath)) return X509Certificate2.CreateFromPemFile(path, KeyPath);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension is ".pfx" or ".p12"
            ? X509CertificateLoader.LoadPkcs12FromFile(path, Password)
            : X509Certificate2.CreateFromPemFile(path);
    }

    public IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            if (!string.IsNullOrEmpty(KeyPath)) yield return "Tls:KeyPath is set but Tls:CertificatePath is not.";
            yield break;
        }
        if (!File.Exists(CertificatePath)) yield return $"Tls:CertificatePath '{CertificatePath}' does not exist.";
        if (!string.IsNullOrEmpty(KeyPath) && !File.Exists(KeyPath)) yield return $"Tls:KeyPath '{KeyPath}' does not exist.";
    }
}
