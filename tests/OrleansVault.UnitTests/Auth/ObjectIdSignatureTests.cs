using System.Security.Cryptography;
using System.Text;
using OrleansVault.Client;
using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Projects;

namespace OrleansVault.UnitTests.Auth;

public sealed class ObjectIdSignatureTests
{
    private static readonly ObjectIdSigner Current = ObjectIdSigner.Create();
    private static readonly ObjectIdSigner Old = ObjectIdSigner.Create();
    private static readonly ObjectIdSigner Revoked = ObjectIdSigner.Create();

    private static readonly ClassPolicy Policy = new("signed", ClassPolicy.DefaultTtl, ClassPolicy.DefaultMaxValueBytes, RequireIdSignature: true, IdSignatureKeys:
    [
        new IdSignatureKey(1, ObjectIdSignatureVerifier.ParsePublicKey(Old.ExportPublicKeyPem()), Revoked: false),
        new IdSignatureKey(2, ObjectIdSignatureVerifier.ParsePublicKey(Current.ExportPublicKeyPem()), Revoked: false),
        new IdSignatureKey(3, ObjectIdSignatureVerifier.ParsePublicKey(Revoked.ExportPublicKeyPem()), Revoked: true),
    ]);

    private static string Code(Action action) => Assert.Throws<VaultException>(action).Code;

    [Fact]
    public void A_signature_by_the_current_key_passes_without_a_version_and_with_its_own()
    {
        ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Current.Sign("room-1"), null);
        ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Current.Sign("room-1"), "2");
        ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Old.Sign("room-1"), "1");
    }

    [Fact]
    public void Missing_wrong_or_revoked_signatures_are_refused_with_their_codes()
    {
        Assert.Equal(ErrorCodes.IdSignatureMissing, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", null, null)));
        Assert.Equal(ErrorCodes.IdSignatureInvalid, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-2", Current.Sign("room-1"), null)));
        Assert.Equal(ErrorCodes.IdSignatureInvalid, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Old.Sign("room-1"), null)));
        Assert.Equal(ErrorCodes.IdSignatureInvalid, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Current.Sign("room-1"), "1")));
        Assert.Equal(ErrorCodes.IdSignatureKeyVersion, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Revoked.Sign("room-1"), "3")));
        Assert.Equal(ErrorCodes.IdSignatureKeyVersion, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Current.Sign("room-1"), "9")));
        Assert.Equal(ErrorCodes.IdSignatureKeyVersion, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Current.Sign("room-1"), "-1")));
        Assert.Equal(ErrorCodes.IdSignatureInvalid, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", "not base64!", null)));
        Assert.Equal(ErrorCodes.IdSignatureMissing, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", "", "2")));
        Assert.Equal(ErrorCodes.IdSignatureInvalid, Code(() => ObjectIdSignatureVerifier.Enforce(Policy, "room-1", Convert.ToBase64String(new byte[64]), "2")));
    }

    [Fact]
    public void A_der_encoded_signature_of_the_right_key_is_refused_only_p1363_counts()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var policy = Policy with { IdSignatureKeys = [new IdSignatureKey(1, ecdsa.ExportSubjectPublicKeyInfo(), false)] };
        var der = ecdsa.SignData(Encoding.UTF8.GetBytes("room-1"), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var p1363 = ecdsa.SignData(Encoding.UTF8.GetBytes("room-1"), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.Equal(ErrorCodes.IdSignatureInvalid, Code(() => ObjectIdSignatureVerifier.Enforce(policy, "room-1", Convert.ToBase64String(der), null)));

        // Padded and unpadded base64url, and standard base64, of the same P1363 bytes all decode.
        ObjectIdSignatureVerifier.Enforce(policy, "room-1", Convert.ToBase64String(p1363), null);
        ObjectIdSignatureVerifier.Enforce(policy, "room-1", Convert.ToBase64String(p1363).Replace('+', '-').Replace('/', '_'), null);
    }

    [Fact]
    public void A_class_without_the_requirement_ignores_signatures_and_keys_must_be_p256()
    {
        ObjectIdSignatureVerifier.Enforce(ClassPolicy.Default("open"), "room-1", null, null);
        ObjectIdSignatureVerifier.Enforce(ClassPolicy.Default("open"), "room-1", "garbage", "x");
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Throws<FormatException>(() => ObjectIdSignatureVerifier.ParsePublicKey(p384.ExportSubjectPublicKeyInfoPem()));
        Assert.Throws<FormatException>(() => ObjectIdSignatureVerifier.ParsePublicKey("not a key"));
    }
}
