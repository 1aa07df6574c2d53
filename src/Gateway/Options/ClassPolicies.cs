using System.Security.Cryptography;
using OrleansVault.Gateway.Auth;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Options;

/// <summary>Turns a class's options (configuration or the admin API) into its <see cref="ClassPolicy"/>, after checking them.</summary>
public static class ClassPolicies
{
    public const string Rules =
        "Class policies: DefaultTtlMs must be positive and MaxValueBytes between 1 and 16 MiB; IdSignatureKeys each need a distinct Version >= 0 and a "
        + "PublicKey (PEM or base64 DER) of an ECDSA P-256 key, and RequireIdSignature needs at least one key that is not revoked; IdentityMode "
        + "UserIdSignature needs UserIdSecret (16+ characters); IdentityToken needs IdentityAlgorithm ES256 with a P-256 IdentityPublicKey (PEM) or "
        + "RS256 with an RSA key of 2048+ bits.";

    /// <summary>Null when the options make a valid policy, else what is wrong.</summary>
    public static string? Problem(ClassOptions options)
    {
        if (options.DefaultTtlMs <= 0 || options.MaxValueBytes is <= 0 or > 16 * 1024 * 1024)
        {
            return "DefaultTtlMs must be positive and MaxValueBytes between 1 and 16 MiB.";
        }

        if (!IdSignatureKeysAreValid(options))
        {
            return "IdSignatureKeys need distinct versions >= 0 and ECDSA P-256 public keys; RequireIdSignature needs a key that is not revoked.";
        }

        return IdentityIsValid(options) ? null : "The identity settings are incomplete or the key does not fit the algorithm (ES256: P-256, RS256: RSA 2048+).";
    }

    /// <summary>The policy of a class named <paramref name="name"/>; call <see cref="Problem"/> first.</summary>
    public static ClassPolicy From(string name, ClassOptions options)
    {
        var keys = options.IdSignatureKeys.Select(k => new IdSignatureKey(k.Version, ObjectIdSignatureVerifier.ParsePublicKey(k.PublicKey), k.Revoked)).ToList();
        return new ClassPolicy(name, options.DefaultTtlMs, options.MaxValueBytes, options.RequireIdSignature, keys.Count == 0 ? null : keys, options.RequireEndToEndEncryption, IdentityFrom(options));
    }

    private static IdentityPolicy? IdentityFrom(ClassOptions options) => options.IdentityMode switch
    {
        IdentityMode.UserIdSignature => new IdentityPolicy(IdentityMode.UserIdSignature, System.Text.Encoding.UTF8.GetBytes(options.UserIdSecret!), null, null, null, null),
        IdentityMode.IdentityToken => new IdentityPolicy(IdentityMode.IdentityToken, null, IdentityKey(options.IdentityPublicKey!), options.IdentityAlgorithm, options.IdentityIssuer, options.IdentityAudience),
        _ => null,
    };

    private static byte[] IdentityKey(string pem)
    {
        var text = pem.Trim();
        using (var ecdsa = ECDsa.Create())
        {
            try
            {
                ecdsa.ImportFromPem(text);
                return ecdsa.ExportSubjectPublicKeyInfo();
            }
            catch (Exception error) when (error is ArgumentException or CryptographicException)
            {
                // Not an EC key: try RSA below.
            }
        }

        using var rsa = RSA.Create();
        rsa.ImportFromPem(text);
        return rsa.ExportSubjectPublicKeyInfo();
    }

    private static bool IdentityIsValid(ClassOptions options)
    {
        switch (options.IdentityMode)
        {
            case IdentityMode.None:
                return true;
            case IdentityMode.UserIdSignature:
                return options.UserIdSecret is { Length: >= 16 };
            case IdentityMode.IdentityToken:
                if (string.IsNullOrWhiteSpace(options.IdentityPublicKey))
                {
                    return false;
                }

                try
                {
                    var spki = IdentityKey(options.IdentityPublicKey!);
                    if (options.IdentityAlgorithm == "ES256")
                    {
                        using var ecdsa = ECDsa.Create();
                        ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                        return ecdsa.KeySize == 256;
                    }

                    if (options.IdentityAlgorithm == "RS256")
                    {
                        using var rsa = RSA.Create();
                        rsa.ImportSubjectPublicKeyInfo(spki, out _);
                        return rsa.KeySize >= 2048;
                    }

                    return false;
                }
                catch (Exception error) when (error is ArgumentException or CryptographicException)
                {
                    return false;
                }

            default:
                return false;
        }
    }

    private static bool IdSignatureKeysAreValid(ClassOptions options)
    {
        if (options.IdSignatureKeys.Any(k => k.Version < 0) || options.IdSignatureKeys.Select(k => k.Version).Distinct().Count() != options.IdSignatureKeys.Count)
        {
            return false;
        }

        if (options.RequireIdSignature && options.IdSignatureKeys.All(k => k.Revoked))
        {
            return false;
        }

        try
        {
            options.IdSignatureKeys.ForEach(k => ObjectIdSignatureVerifier.ParsePublicKey(k.PublicKey));
            return true;
        }
        catch (Exception error) when (error is FormatException or ArgumentException or CryptographicException)
        {
            return false;
        }
    }
}
