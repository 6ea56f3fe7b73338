using System.Text;
using CharacterGen.Server.Grpc;

namespace CharacterGen.Server.Characters;

/// <summary>List's page token: the (created_at, id) of the previous page's last character, so new characters never shift pages.</summary>
public static class CharacterPageToken
{
    public static string Write(CharacterRecord last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{last.CreatedAt.UtcTicks}:{last.Id}"));

    public static (long CreatedAt, string Id)? Read(string token)
    {
        if (token.Length == 0) return null;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':');
            if (colon > 0 && long.TryParse(text[..colon], out var ticks)) return (ticks, text[(colon + 1)..]);
        }
        catch (FormatException) { }
        RpcErrors.ThrowInvalidArgument("page_token", "is not a token from a previous List call");
        return null;
    }
}
