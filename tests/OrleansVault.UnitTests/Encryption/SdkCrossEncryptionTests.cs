using System.Text.Json;
using OrleansVault.Client.Encryption;
using static OrleansVault.UnitTests.Encryption.EncryptionFixtures;

namespace OrleansVault.UnitTests.Encryption;

/// <summary>
/// The .NET client and the real @vaultrice/sdk read each other's ciphertext: .NET encrypts and the SDK decrypts
/// through its own getItem path, and the reverse, across a key rotation. Any divergence in derivation, cipher or
/// text format fails these tests.
/// </summary>
public sealed class SdkCrossEncryptionTests
{
    private static readonly string[] Values =
    [
        """{"pin":"tiger","n":[1,2.5,null,true,-0.001,1e+300],"nested":{"deep":[{"x":"y"}]}}""",
        "\"héllo wörld 😀 中文 \\\"quoted\\\" \\\\ \\n\"",
        JsonSerializer.Serialize("lone surrogate \ud800 stays escaped"),
        "\"\"",
        "0",
        "false",
        "null",
        "[]",
        // Above the ~125 KB the SDK itself can encrypt in Node (a spread into String.fromCharCode overflows the
        // stack); it decrypts such values fine.
        JsonSerializer.Serialize(new string('x', 200_000)),
    ];

    [Fact]
    public async Task Values_encrypted_by_dotnet_are_decrypted_by_the_sdk_under_current_and_previous_versions()
    {
        var before = VaultEncryption.Create(Passphrase, ObjectId, BeforeRotation).Encrypt("\"written before the rotation\"");
        var current = Values.Select(Rotated.Encrypt).ToList();

        var sdk = await SdkEncryptionVectors.RunAsync(Passphrase, ObjectId, AfterRotation, [], [before, .. current]);

        Assert.Equal(0, before.KeyVersion);
        Assert.Equal(("\"written before the rotation\"", (string?)null), sdk.Decrypted[0]);
        Assert.Equal(Values.Select(v => (v, (string?)null)), sdk.Decrypted.Skip(1).Select(d => (d.Json!, d.Error)));
    }

    [Fact]
    public async Task Values_encrypted_by_the_sdk_are_decrypted_by_dotnet_with_their_key_version()
    {
        var sdkValues = Values.Take(Values.Length - 1).ToList();
        var beforeRotation = await SdkEncryptionVectors.RunAsync(Passphrase, ObjectId, BeforeRotation, ["\"old\""], []);
        var afterRotation = await SdkEncryptionVectors.RunAsync(Passphrase, ObjectId, AfterRotation, sdkValues, []);

        Assert.Equal(0, beforeRotation.Encrypted[0].KeyVersion);
        Assert.Equal("\"old\"", Rotated.Decrypt(beforeRotation.Encrypted[0].Ciphertext, 0));
        Assert.All(afterRotation.Encrypted, e => Assert.Equal(1, e.KeyVersion));
        for (var i = 0; i < sdkValues.Count; i++)
        {
            using var expected = JsonDocument.Parse(sdkValues[i]);
            var actual = Rotated.DecryptToElement(afterRotation.Encrypted[i].Ciphertext, afterRotation.Encrypted[i].KeyVersion);
            Assert.True(JsonElement.DeepEquals(expected.RootElement, actual), $"value {i}: {actual.GetRawText()}");
        }

        var notYetRotated = VaultEncryption.Create(Passphrase, ObjectId, BeforeRotation);
        var error = Assert.Throws<VaultEncryptionException>(() => notYetRotated.Decrypt(afterRotation.Encrypted[0].Ciphertext, 1));
        Assert.Equal(EncryptionErrorCodes.KeyVersionUnknown, error.Code);
    }

    [Fact]
    public async Task The_sdk_refuses_dotnet_ciphertext_made_with_another_passphrase_or_object_id()
    {
        var otherPassphrase = VaultEncryption.Create("another passphrase", ObjectId, AfterRotation).Encrypt("\"x\"");
        var otherObject = VaultEncryption.Create(Passphrase, "room-43", AfterRotation).Encrypt("\"x\"");
        var good = Rotated.Encrypt("\"x\"");

        var sdk = await SdkEncryptionVectors.RunAsync(Passphrase, ObjectId, AfterRotation, [], [otherPassphrase, otherObject, good]);

        Assert.NotNull(sdk.Decrypted[0].Error);
        Assert.NotNull(sdk.Decrypted[1].Error);
        Assert.Equal(("\"x\"", (string?)null), sdk.Decrypted[2]);
    }
}
