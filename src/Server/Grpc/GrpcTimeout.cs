using System.Globalization;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// The <c>grpc-timeout</c> header: at most 8 ASCII digits and a unit,
/// H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds).
/// </summary>
public static class GrpcTimeout
{
    /// <summary>
    /// Timeouts at least this long count as "no deadline": a CancellationTokenSource timer cannot
    /// be armed for much longer, and a month-long RPC is not a deadline anyone means.
    /// </summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(30);

    public static bool TryParse(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9) return false;
        var digits = value.AsSpan(0, value.Length - 1);
        foreach (var c in digits)
            if (!char.IsAsciiDigit(c)) return false;
        var amount = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        var ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => amount / 100,
            _ => -1,
        };
        if (ticks < 0) return false;
        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>Formats with the finest unit that fits in 8 digits (what a client sends).</summary>
    public static string Format(TimeSpan timeout)
    {
        var ticks = Math.Max(0, timeout.Ticks);
        if (ticks / 10 < 100_000_000) return (ticks / 10).ToString(CultureInfo.InvariantCulture) + "u";
        var ms = ticks / TimeSpan.TicksPerMillisecond;
        if (ms < 100_000_000) return ms.ToString(CultureInfo.InvariantCulture) + "m";
        var s = ticks / TimeSpan.TicksPerSecond;
        if (s < 100_000_000) return s.ToString(CultureInfo.InvariantCulture) + "S";
        return Math.Min(99_999_999, ticks / TimeSpan.TicksPerHour).ToString(CultureInfo.InvariantCulture) + "H";
    }
}
