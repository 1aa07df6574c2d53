using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OrleansVault.Gateway.Pusher.Protocol;

/// <summary>
/// Socket ids: two cryptographically random decimal integers joined by a dot (the <c>pusher</c> SDK accepts only
/// <c>^\d+\.\d+$</c>), ~120 bits together, so one socket cannot guess another's id to forge its authorization.
/// </summary>
public static class PusherSocketId
{
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var a = BinaryPrimitives.ReadUInt64LittleEndian(bytes) >> 4;
        var b = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]) >> 4;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{a}.{b}");
    }

    public static bool IsValid(string? socketId)
    {
        if (string.IsNullOrEmpty(socketId) || socketId.Length > 41)
        {
            return false;
        }

        var dot = socketId.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < socketId.Length - 1
            && socketId.AsSpan(0, dot).ContainsAnyExceptInRange('0', '9') is false
            && socketId.AsSpan(dot + 1).ContainsAnyExceptInRange('0', '9') is false;
    }
}
