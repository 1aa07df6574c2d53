using System.Buffers.Text;
using System.Globalization;

namespace OrleansVault.LoadTest.Metrics;

/// <summary>
/// Load payloads carry their send time (<c>"ovt":UTC ticks</c>) so any subscriber, in any worker process,
/// measures end-to-end latency. The reader finds the stamp in raw frames of every door, escaped or not.
/// </summary>
public static class Payload
{
    private static readonly byte[] Marker = "ovt"u8.ToArray();

    public static string Create(long ticks, int size)
    {
        var head = "{\"ovt\":" + ticks.ToString(CultureInfo.InvariantCulture) + ",\"pad\":\"";
        var padding = Math.Max(0, size - head.Length - 2);
        return head + new string('x', padding) + "\"}";
    }

    /// <summary>Finds the stamp in a frame (or the start of one): <c>ovt":123</c> or, inside a JSON string, <c>ovt\":123</c>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out long ticks)
    {
        ticks = 0;
        var at = frame.IndexOf(Marker);
        if (at < 0)
        {
            return false;
        }

        var rest = frame[(at + Marker.Length)..];
        while (rest.Length > 0 && rest[0] is (byte)'"' or (byte)'\\')
        {
            rest = rest[1..];
        }

        if (rest.Length == 0 || rest[0] != (byte)':')
        {
            return false;
        }

        return Utf8Parser.TryParse(rest[1..], out ticks, out _);
    }

    public static bool TryRead(string text, out long ticks) => TryRead(System.Text.Encoding.UTF8.GetBytes(text), out ticks);
}
