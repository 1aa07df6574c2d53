using System.Security.Cryptography;
using System.Text;

namespace OrleansVault.Client;

/// <summary>
/// Signs object ids for classes that require signatures, in your application's backend (never in a browser: the
/// private key must stay on the server). The format the gateway verifies: ECDSA P-256 with SHA-256 over the UTF-8
/// object id, IEEE P1363 (r‖s, 64 bytes), base64url without padding. Send it as <c>X-Id-Sig</c> (HTTP) or
/// <c>idSignature</c> (socket query); the key version as <c>X-Id-Sig-KV</c> / <c>idSignatureKeyVersion</c>.
/// </summary>
public sealed class ObjectIdSigner : IDisposable
{
    private readonly ECDsa _key;

    private ObjectIdSigner(ECDsa key) => _key = key;

    /// <summary>A new P-256 key pair.</summary>
    public static ObjectIdSigner Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Loads a private key from PEM (<c>-----BEGIN PRIVATE KEY-----</c> or <c>EC PRIVATE KEY</c>).</summary>
    public static ObjectIdSigner FromPem(string privateKeyPem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(privateKeyPem);
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException("Object id signing keys are ECDSA P-256.", nameof(privateKeyPem));
        }

        return new ObjectIdSigner(key);
    }

    /// <summary>The private key as PKCS#8 PEM, to store in your backend's secret store.</summary>
    public string ExportPrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>The public key as PEM, for the class configuration (<c>Vault:Bootstrap:Classes:{name}:IdSignatureKeys:{n}:PublicKey</c>).</summary>
    public string ExportPublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>The signature of <paramref name="objectId"/>, base64url.</summary>
    public string Sign(string objectId)
    {
        var signature = _key.SignData(Encoding.UTF8.GetBytes(objectId), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return System.Buffers.Text.Base64Url.EncodeToString(signature);
    }

    /// <summary>Releases the key.</summary>
    public void Dispose() => _key.Dispose();
}
