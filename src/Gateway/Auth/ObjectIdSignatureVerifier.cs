using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OrleansVault.Errors;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Auth;

/// <summary>
/// Checks the object-ID signature a class may require (Vaultrice SF2): ECDSA P-256 with SHA-256 over the UTF-8 object
/// id, IEEE P1363 (r‖s, 64 bytes), base64url. The key is the class's, so a signature is good for one project and
/// class only; a missing key version means the class's current (newest unrevoked) key.
/// </summary>
public static class ObjectIdSignatureVerifier
{
    public static void Enforce(ClassPolicy policy, string objectId, string? signature, string? keyVersion)
    {
        if (!policy.RequireIdSignature)
        {
            return;
        }

        if (string.IsNullOrEmpty(signature))
        {
            throw Refused(ErrorCodes.IdSignatureMissing, "This class requires a signed object id (X-Id-Sig, or idSignature on the socket).");
        }

        IdSignatureKey? key;
        if (string.IsNullOrEmpty(keyVersion))
        {
            key = policy.CurrentIdSignatureKey;
        }
        else
        {
            key = int.TryParse(keyVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                ? policy.IdSignatureKeys?.FirstOrDefault(k => k.Version == version)
                : null;
        }

        if (key is null || key.Revoked)
        {
            throw Refused(ErrorCodes.IdSignatureKeyVersion, "The object id signature names an unknown or revoked key version.");
        }

        if (!Verify(key.PublicKey, objectId, signature))
        {
            throw Refused(ErrorCodes.IdSignatureInvalid, "The object id signature is not valid.");
        }
    }

    public static bool Verify(byte[] publicKey, string objectId, string signature)
    {
        byte[] raw;
        try
        {
            raw = Base64UrlDecode(signature);
        }
        catch (FormatException)
        {
            return false;
        }

        if (raw.Length != 64)
        {
            return false;
        }

        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(publicKey, out _);
        return ecdsa.VerifyData(Encoding.UTF8.GetBytes(objectId), raw, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Parses a configured public key: PEM (<c>-----BEGIN PUBLIC KEY-----</c>) or base64 of the DER SubjectPublicKeyInfo; must be P-256.</summary>
    public static byte[] ParsePublicKey(string text)
    {
        using var ecdsa = ECDsa.Create();
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            ecdsa.ImportFromPem(text);
        }
        else
        {
            ecdsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(text.Trim()), out _);
        }

        if (ecdsa.KeySize != 256 || ecdsa.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new FormatException("Object id signature keys must be ECDSA P-256.");
        }

        return ecdsa.ExportSubjectPublicKeyInfo();
    }

    private static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
        return Convert.FromBase64String(s);
    }

    private static VaultException Refused(string code, string message) => new(VaultErrorKind.Forbidden, code, message);
}
