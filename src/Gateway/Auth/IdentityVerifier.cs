using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansVault.Errors;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Auth;

/// <summary>What the client sent to prove who its user is (WIRE 1.7): the socket event's <c>auth</c>, or the HTTP headers.</summary>
public sealed record IdentityProof(string? IdentityToken, string? UserIdSignature)
{
    public static IdentityProof? FromSocketEvent(JsonElement root)
    {
        if (!root.TryGetProperty("auth", out var auth) || auth.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return new IdentityProof(StringOrNull(auth, "identityToken"), StringOrNull(auth, "userIdSignature"));
    }

    public static IdentityProof? FromHeaders(IHeaderDictionary headers)
    {
        var token = headers["x-vaultrice-auth-token"].ToString();
        var signature = headers["x-vaultrice-auth-signature"].ToString();
        return token.Length == 0 && signature.Length == 0 ? null : new IdentityProof(token.Length == 0 ? null : token, signature.Length == 0 ? null : signature);
    }

    private static string? StringOrNull(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>
/// Verifies a user's identity on <c>join</c> and <c>send</c> for classes that require it, before anything reaches the
/// object: user-id signatures (hex HMAC-SHA256 of the payload's <c>userId</c> under the class secret, constant-time) or
/// identity JWTs (the class's key, algorithm pinned, lifetime checked, and every payload field that is also a claim must
/// equal it). Returns the verified user id, or null for classes without verification.
/// </summary>
public static class IdentityVerifier
{
    private static readonly JsonWebTokenHandler Handler = new();

    public static async Task<string?> VerifyAsync(ClassPolicy policy, string payloadJson, IdentityProof? proof)
    {
        var identity = policy.Identity;
        if (identity is null || identity.Mode == IdentityMode.None)
        {
            return null;
        }

        using var document = ParsePayload(payloadJson);
        var payload = document.RootElement;
        return identity.Mode switch
        {
            IdentityMode.UserIdSignature => VerifyUserIdSignature(identity, payload, proof?.UserIdSignature),
            IdentityMode.IdentityToken => await VerifyIdentityTokenAsync(identity, payload, proof?.IdentityToken),
            _ => throw Invalid("This class's identity mode is not supported."),
        };
    }

    private static string VerifyUserIdSignature(IdentityPolicy identity, JsonElement payload, string? signature)
    {
        if (string.IsNullOrEmpty(signature))
        {
            throw Missing();
        }

        if (payload.ValueKind != JsonValueKind.Object || !payload.TryGetProperty("userId", out var userIdElement) || userIdElement.ValueKind != JsonValueKind.String)
        {
            throw Invalid("User-id signatures need a plaintext JSON object payload with a string userId.");
        }

        var userId = userIdElement.GetString()!;
        var expected = HMACSHA256.HashData(identity.Secret!, Encoding.UTF8.GetBytes(userId));
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            throw Invalid("The user-id signature is not valid.");
        }

        return CryptographicOperations.FixedTimeEquals(expected, given) ? userId : throw Invalid("The user-id signature is not valid.");
    }

    private static async Task<string> VerifyIdentityTokenAsync(IdentityPolicy identity, JsonElement payload, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            throw Missing();
        }

        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKey = SigningKey(identity),
            ValidAlgorithms = [identity.Algorithm!],
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            ValidateIssuer = identity.Issuer is not null,
            ValidIssuer = identity.Issuer,
            ValidateAudience = identity.Audience is not null,
            ValidAudience = identity.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            throw Invalid("The identity token is not valid.");
        }

        // Consistency: a payload field that the token also states must say the same thing.
        if (payload.ValueKind == JsonValueKind.Object)
        {
            using var claims = JsonDocument.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload));
            foreach (var field in payload.EnumerateObject())
            {
                if (claims.RootElement.TryGetProperty(field.Name, out var claim) && !JsonElement.DeepEquals(claim, field.Value))
                {
                    throw Invalid($"The payload's '{field.Name}' does not match the identity token.");
                }
            }
        }

        return jwt.Subject is { Length: > 0 } subject ? subject : throw Invalid("The identity token has no subject (sub).");
    }

    private static SecurityKey SigningKey(IdentityPolicy identity)
    {
        if (identity.Algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(identity.PublicKey, out _);
            return new ECDsaSecurityKey(ecdsa);
        }

        var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(identity.PublicKey, out _);
        return new RsaSecurityKey(rsa);
    }

    private static JsonDocument ParsePayload(string payloadJson)
    {
        try
        {
            return JsonDocument.Parse(payloadJson);
        }
        catch (JsonException)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "The payload is not JSON.");
        }
    }

    private static VaultException Missing() =>
        new(VaultErrorKind.Unauthenticated, ErrorCodes.IdentityMissing, "This class requires a verified user identity: send auth with an identityToken or userIdSignature.");

    private static VaultException Invalid(string message) => new(VaultErrorKind.Forbidden, ErrorCodes.IdentityInvalid, message);
}
