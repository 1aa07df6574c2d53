using System.Security.Cryptography;
using System.Text;

namespace OrleansVault.Gateway.Pusher.Protocol;

/// <summary>
/// Pusher's HMAC-SHA256 signatures: channel authorization (<c>socket_id:channel[:channel_data]</c>), user sign-in
/// (<c>socket_id::user::user_data</c>), REST requests and webhook bodies. Lower-case hex; checks in constant time.
/// </summary>
public static class PusherSignatures
{
    public static string ChannelAuthString(string socketId, string channel, string? channelData) =>
        channelData is null ? $"{socketId}:{channel}" : $"{socketId}:{channel}:{channelData}";

    public static string SignInString(string socketId, string userData) => $"{socketId}::user::{userData}";

    public static string Sign(byte[] secret, string data) => Sign(secret, Encoding.UTF8.GetBytes(data));

    public static string Sign(byte[] secret, ReadOnlySpan<byte> data) => Convert.ToHexStringLower(HMACSHA256.HashData(secret, data));

    /// <summary>Checks an <c>auth</c> value of the form <c>{app key}:{hex signature}</c> over <paramref name="stringToSign"/>.</summary>
    public static bool VerifyAuth(string? auth, string appKey, byte[] secret, string stringToSign)
    {
        if (string.IsNullOrEmpty(auth))
        {
            return false;
        }

        var colon = auth.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !FixedEquals(auth.AsSpan(0, colon), appKey))
        {
            return false;
        }

        return VerifyHex(auth.AsSpan(colon + 1), secret, Encoding.UTF8.GetBytes(stringToSign));
    }

    /// <summary>Whether <paramref name="hex"/> is the signature of <paramref name="data"/>, compared in constant time.</summary>
    public static bool VerifyHex(ReadOnlySpan<char> hex, byte[] secret, ReadOnlySpan<byte> data)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret, data, expected);
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (hex.Length != given.Length * 2 || Convert.FromHexString(hex, given, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != given.Length)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Constant-time text equality (for keys that are public but still compared without early exit).</summary>
    public static bool FixedEquals(ReadOnlySpan<char> a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a.ToArray()), Encoding.UTF8.GetBytes(b));
}
