using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansVault.Errors;
using OrleansVault.Gateway.Options;

namespace OrleansVault.Gateway.Auth;

/// <summary>What a valid access token says about its holder.</summary>
public sealed record TokenClaims(string ProjectId, string KeyId, string? Origin, long ExpiresAt, long NotBefore = 0, string? SigningKeyId = null);

/// <summary>
/// Mints and validates ES256 access tokens. Times are milliseconds (the Vaultrice SDK reads <c>exp</c> so),
/// so the lifetime check is ours; signature, algorithm, issuer and audience are Microsoft.IdentityModel's.
/// </summary>
public sealed class TokenService(KeyRingCache keyRing, IOptions<AuthOptions> options, TimeProvider time)
{
    private const string OriginClaim = "origin";
    private const int MaxCachedTokens = 20_000;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    // Signature checks (ES256) cost more than the rest of a request: a token whose signature was verified is
    // remembered by its exact text (any change to header, claims or signature is another key). Lifetime, signing
    // key and API key are still checked on every use.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TokenClaims> _verified = new(StringComparer.Ordinal);

    // The same cache looked up by a slice of the Authorization header, so a remembered token costs no copy.
    private System.Collections.Concurrent.ConcurrentDictionary<string, TokenClaims>.AlternateLookup<ReadOnlySpan<char>> VerifiedByText =>
        _verified.GetAlternateLookup<ReadOnlySpan<char>>();

    public async Task<string> MintAsync(string projectId, string keyId, string? origin)
    {
        var material = await keyRing.GetAsync();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = keyId,
            [JwtRegisteredClaimNames.Iat] = now,
            [JwtRegisteredClaimNames.Nbf] = now,
            [JwtRegisteredClaimNames.Exp] = now + (long)options.Value.TokenLifetime.TotalMilliseconds,
            [JwtRegisteredClaimNames.Jti] = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant(),
        };
        if (!string.IsNullOrEmpty(origin))
        {
            claims[OriginClaim] = origin;
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = projectId,
            Claims = claims,
            SigningCredentials = new SigningCredentials(material.Current, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>Validates a token for <paramref name="projectId"/>; throws a 401 <see cref="VaultException"/> otherwise.</summary>
    public Task<TokenClaims> ValidateAsync(string token, string projectId) => ValidateAsync(token.AsMemory(), projectId);

    /// <summary>
    /// Validates a token given as a slice of a longer text (the Authorization header); the slice is copied to a
    /// string only when its signature has to be checked, not on every request that presents a remembered token.
    /// </summary>
    public async Task<TokenClaims> ValidateAsync(ReadOnlyMemory<char> token, string projectId)
    {
        var material = await keyRing.GetAsync();
        if (!VerifiedByText.TryGetValue(token.Span, out var claims)
            || !string.Equals(claims.ProjectId, projectId, StringComparison.Ordinal)
            || !material.Verification.Any(k => string.Equals(k.KeyId, claims.SigningKeyId, StringComparison.Ordinal)))
        {
            var text = token.ToString();
            claims = await VerifySignatureAsync(text, projectId, material);
            if (_verified.Count >= MaxCachedTokens)
            {
                _verified.Clear();
            }

            _verified[text] = claims;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var skew = (long)options.Value.ClockSkew.TotalMilliseconds;
        if (claims.ExpiresAt + skew <= now)
        {
            VerifiedByText.TryRemove(token.Span, out _, out _);
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.TokenExpired, "The access token has expired.");
        }

        if (claims.NotBefore - skew > now)
        {
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.TokenInvalid, "The access token is not valid yet.");
        }

        return claims;
    }

    private async Task<TokenClaims> VerifySignatureAsync(string token, string projectId, KeyRingMaterial material)
    {
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = options.Value.Issuer,
            ValidAudience = projectId,
            IssuerSigningKeys = material.Verification,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateIssuerSigningKey = true,

            // The key id is pinned: a token whose kid is missing or unknown is not tried against every key in the ring.
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.TokenInvalid, "The access token is not valid.");
        }

        if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var exp)
            || !jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Nbf, out var nbf)
            || !jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var keyId))
        {
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.TokenInvalid, "The access token is not valid.");
        }

        jwt.TryGetPayloadValue<string>(OriginClaim, out var origin);
        return new TokenClaims(projectId, keyId, origin, exp, nbf, jwt.Kid);
    }
}
