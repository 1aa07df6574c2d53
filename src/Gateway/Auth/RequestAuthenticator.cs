using System.Text;
using OrleansVault.Errors;
using OrleansVault.Objects;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Auth;

/// <summary>Who is calling: the project, the API key, and (for tokens) when the token expires.</summary>
public sealed record Caller(string ProjectId, string KeyId, string? Origin, long? TokenExpiresAt, int? MaxConnections = null, double? MessagesPerSecond = null);

/// <summary>
/// Turns an <c>Authorization</c> value (Basic key:secret or Bearer token; on sockets the <c>auth</c> query
/// parameter) plus the request's <c>Origin</c> into a <see cref="Caller"/>, or a 401/403 <see cref="VaultException"/>.
/// </summary>
public sealed class RequestAuthenticator(ProjectDirectory projects, KeyRingCache keyRing, TokenService tokens)
{
    public async Task<Caller> AuthenticateAsync(string projectId, string? authorization, string? origin)
    {
        if (string.IsNullOrWhiteSpace(authorization))
        {
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsMissing, "Send an access token (Bearer) or API key and secret (Basic).");
        }

        if (TryScheme(authorization, "Basic", out var basic))
        {
            var (project, key) = await VerifyBasicAsync(projectId, basic);
            OriginPolicy.Enforce(key, origin);
            return new Caller(project.ProjectId, key.KeyId, origin, null, key.MaxConnections, key.MessagesPerSecond);
        }

        if (TrySchemeSlice(authorization, "Bearer", out var token))
        {
            var claims = await tokens.ValidateAsync(token, projectId);
            var project = await projects.GetAsync(projectId);
            var key = project?.FindKey(claims.KeyId);
            if (key is null || !key.Enabled)
            {
                throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.KeyDisabled, "The API key of this token is disabled or gone.");
            }

            if (claims.Origin is not null && !string.IsNullOrEmpty(origin) && !string.Equals(claims.Origin, origin, StringComparison.OrdinalIgnoreCase))
            {
                throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.OriginNotAllowed, "This token was minted for another origin.");
            }

            OriginPolicy.Enforce(key, string.IsNullOrEmpty(origin) ? null : origin);
            return new Caller(projectId, key.KeyId, origin, claims.ExpiresAt, key.MaxConnections, key.MessagesPerSecond);
        }

        throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsInvalid, "The Authorization scheme must be Basic or Bearer.");
    }

    /// <summary>
    /// Authenticates a request for one object and checks the object-ID signature its class may require, before any
    /// object grain is called.
    /// </summary>
    public async Task<Caller> AuthorizeObjectAsync(ObjectAddress address, string? authorization, string? origin, string? idSignature, string? idSignatureKeyVersion)
    {
        var caller = await AuthenticateAsync(address.ProjectId, authorization, origin);
        ObjectIdSignatureVerifier.Enforce(await ClassPolicyAsync(address), address.ObjectId, idSignature, idSignatureKeyVersion);
        return caller;
    }

    /// <summary>The policy of the object's class, as this gateway caches the project configuration.</summary>
    public async ValueTask<ClassPolicy> ClassPolicyAsync(ObjectAddress address)
    {
        var project = await projects.GetAsync(address.ProjectId);
        return project?.Classes.FirstOrDefault(c => string.Equals(c.Name, address.Class, StringComparison.Ordinal)) ?? ClassPolicy.Default(address.Class);
    }

    /// <summary>Checks Basic credentials against the project's keys in constant time.</summary>
    public async Task<(ProjectSnapshot Project, ApiKeyRecord Key)> VerifyBasicAsync(string projectId, string encoded)
    {
        var invalid = new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsInvalid, "The API key or secret is wrong.");
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            throw invalid;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw invalid;
        }

        var keyId = decoded[..colon];
        var secret = decoded[(colon + 1)..];
        var material = await keyRing.GetAsync();
        var project = await projects.GetAsync(projectId);
        var key = project?.FindKey(keyId);

        // Hash even when the key is unknown, so timing does not tell which keys exist; every active secret is compared.
        var matches = false;
        foreach (var hash in key?.SecretHashes ?? [new byte[32]])
        {
            matches |= SecretHasher.Matches(material.Pepper, secret, hash);
        }
        if (project is null || key is null || !matches)
        {
            throw invalid;
        }

        if (!key.Enabled)
        {
            throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.KeyDisabled, "This API key is disabled.");
        }

        return (project, key);
    }

    /// <summary>The key id of a Basic header, for audit records; null when it is not readable Basic. The secret is never returned.</summary>
    public static string? BasicKeyId(string header)
    {
        if (!TryScheme(header, "Basic", out var encoded))
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon is > 0 and <= 128 ? decoded[..colon] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool TryScheme(string header, string scheme, out string value)
    {
        var found = TrySchemeSlice(header, scheme, out var slice);
        value = found ? slice.ToString() : string.Empty;
        return found;
    }

    /// <summary>The credentials after "{scheme} ", trimmed, as a slice of the header (no copy).</summary>
    private static bool TrySchemeSlice(string header, string scheme, out ReadOnlyMemory<char> value)
    {
        if (header.Length > scheme.Length + 1
            && header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && header[scheme.Length] == ' ')
        {
            value = header.AsMemory(scheme.Length + 1).Trim();
            return value.Length > 0;
        }

        value = ReadOnlyMemory<char>.Empty;
        return false;
    }
}
