using OrleansVault.Errors;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Auth;

/// <summary>Decides whether a request's <c>Origin</c> is allowed for an API key (exact origins and <c>https://*.example.com</c> patterns).</summary>
public static class OriginPolicy
{
    /// <summary>Throws the error the SDK recognises when <paramref name="origin"/> may not use <paramref name="key"/>.</summary>
    public static void Enforce(ApiKeyRecord key, string? origin)
    {
        if (key.AllowedOrigins.Count == 0)
        {
            return;
        }

        if (string.IsNullOrEmpty(origin))
        {
            if (key.AllowNonBrowser)
            {
                return;
            }

            throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.OriginMissing, "This API key only accepts requests from its allowed origins; pass the browser origin when minting a token from a backend.");
        }

        if (!key.AllowedOrigins.Any(pattern => Matches(pattern, origin)))
        {
            throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.OriginNotAllowed, "This origin is not allowed for this API key.");
        }
    }

    public static bool Matches(string pattern, string origin)
    {
        var wildcard = pattern.IndexOf("://*.", StringComparison.Ordinal);
        if (wildcard < 0)
        {
            return string.Equals(pattern.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase);
        }

        var scheme = pattern[..(wildcard + 3)];
        var suffix = pattern[(wildcard + 4)..].TrimEnd('/');
        return origin.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && origin.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
            && origin.Length > scheme.Length + suffix.Length
            && !origin.AsSpan(scheme.Length, origin.Length - scheme.Length - suffix.Length).Contains('/');
    }

    public static IReadOnlyList<string> Parse(string? commaSeparated) =>
        string.IsNullOrWhiteSpace(commaSeparated)
            ? []
            : [.. commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
