namespace CharacterGen.Server.Grpc;

/// <summary>
/// Credentials accepted on every gRPC call except health checks: an API key in <c>x-api-key</c> or a
/// token in <c>authorization: Bearer …</c>. With neither configured, authentication is off.
/// </summary>
public sealed record AuthOptions
{
    /// <summary>Short keys are guessable; refuse them at start-up.</summary>
    public const int MinimumSecretLength = 16;

    public string[] ApiKeys { get; init; } = [];

    public string[] BearerTokens { get; init; } = [];

    public bool Enabled => ApiKeys.Length > 0 || BearerTokens.Length > 0;

    public IEnumerable<string> Validate()
    {
        foreach (var (name, secrets) in new[] { ("ApiKeys", ApiKeys), ("BearerTokens", BearerTokens) })
        {
            for (var i = 0; i < secrets.Length; i++)
            {
                // The value itself is never echoed: error output ends up in logs.
                if (string.IsNullOrWhiteSpace(secrets[i]) || secrets[i].Length < MinimumSecretLength)
                    yield return $"Auth:{name}[{i}] must be at least {MinimumSecretLength} characters.";
                else if (secrets[i].Any(c => c < 0x21 || c > 0x7E))
                    yield return $"Auth:{name}[{i}] must be printable ASCII without spaces.";
            }
        }
    }
}
