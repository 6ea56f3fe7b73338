using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Checks a call's credentials against the configured secrets in constant time: both sides are hashed
/// to fixed-length digests (hiding the length) and every secret is compared (no early exit).
/// </summary>
public sealed class GrpcAuthenticator(AuthOptions options)
{
    public const string ApiKeyHeader = "x-api-key";
    public const string AuthorizationHeader = "authorization";

    private readonly byte[][] _apiKeys = options.ApiKeys.Select(Digest).ToArray();
    private readonly byte[][] _bearerTokens = options.BearerTokens.Select(Digest).ToArray();

    public bool Enabled => options.Enabled;

    /// <summary>True when authentication is off, or the request carries a configured key or token.</summary>
    public bool IsAuthenticated(IHeaderDictionary headers)
    {
        if (!Enabled) return true;
        var matched = false;
        if (headers.TryGetValue(ApiKeyHeader, out var apiKey) && apiKey.Count == 1)
            matched |= MatchesAny(_apiKeys, apiKey[0] ?? "");
        if (headers.TryGetValue(AuthorizationHeader, out var authorization) && authorization.Count == 1
            && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            matched |= MatchesAny(_bearerTokens, value["Bearer ".Length..].Trim());
        return matched;
    }

    private static bool MatchesAny(byte[][] secrets, string presented)
    {
        var digest = Digest(presented);
        var matched = false;
        foreach (var secret in secrets)
            matched |= CryptographicOperations.FixedTimeEquals(secret, digest);
        return matched;
    }

    private static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
