using System.Security.Cryptography;
using System.Text;

namespace OrleansVault.Gateway.Pusher.Protocol;

/// <summary>Why a signed REST request was refused (each maps to Pusher's documented status and message).</summary>
public enum RestAuthFailure
{
    None,
    MissingParameter,
    UnknownKey,
    BadVersion,
    Timestamp,
    BodyMd5,
    Signature,
}

/// <summary>
/// Verifies Pusher REST request signatures: <c>auth_signature</c> is the hex HMAC-SHA256 of
/// <c>METHOD\nPATH\nSORTED_QUERY</c> where the query holds every parameter but <c>auth_signature</c>, keys sorted,
/// values as sent; <c>body_md5</c> must match a non-empty body; <c>auth_timestamp</c> within the window.
/// </summary>
public static class PusherRestAuth
{
    public static string CanonicalString(string method, string path, IEnumerable<KeyValuePair<string, string>> query)
    {
        var parameters = query
            .Where(p => !string.Equals(p.Key, "auth_signature", StringComparison.Ordinal))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}");
        return $"{method.ToUpperInvariant()}\n{path}\n{string.Join('&', parameters)}";
    }

    /// <summary>Hex MD5 of a body: the protocol's integrity field (the signature, not MD5, is what protects it).</summary>
#pragma warning disable CA5351 // Pusher's wire format names MD5; the HMAC over the canonical string carries the security.
    public static string BodyMd5(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(MD5.HashData(body));
#pragma warning restore CA5351

    /// <summary>Checks a request; <paramref name="secretFor"/> returns the secret of an app key (null when unknown).</summary>
    public static RestAuthFailure Verify(
        string method,
        string path,
        IReadOnlyDictionary<string, string> query,
        ReadOnlySpan<byte> body,
        Func<string, byte[]?> secretFor,
        long nowSeconds,
        long windowSeconds)
    {
        if (!query.TryGetValue("auth_key", out var key) || !query.TryGetValue("auth_timestamp", out var timestampText)
            || !query.TryGetValue("auth_signature", out var signature) || !query.TryGetValue("auth_version", out var version))
        {
            return RestAuthFailure.MissingParameter;
        }

        var secret = secretFor(key);
        if (secret is null)
        {
            return RestAuthFailure.UnknownKey;
        }

        if (version != "1.0")
        {
            return RestAuthFailure.BadVersion;
        }

        if (!long.TryParse(timestampText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(nowSeconds - timestamp) > windowSeconds)
        {
            return RestAuthFailure.Timestamp;
        }

        if (!body.IsEmpty || query.ContainsKey("body_md5"))
        {
            if (!query.TryGetValue("body_md5", out var md5) || !PusherSignatures.FixedEquals(md5.ToLowerInvariant(), BodyMd5(body)))
            {
                return RestAuthFailure.BodyMd5;
            }
        }

        var canonical = CanonicalString(method, path, query);
        return PusherSignatures.VerifyHex(signature, secret, Encoding.UTF8.GetBytes(canonical)) ? RestAuthFailure.None : RestAuthFailure.Signature;
    }
}
