using System.Text.Json;
using OrleansVault.Client.Encryption;
using static OrleansVault.UnitTests.Encryption.EncryptionFixtures;

namespace OrleansVault.UnitTests.Encryption;

/// <summary>The SDK-compatible end-to-end encryption of the .NET client: format, versions, and its failures.</summary>
public sealed class VaultEncryptionTests
{
    // Made by @vaultrice/sdk 1.0.0 itself (tests/compat/lib/e2ee-vector.mjs) with the fixtures' passphrase, object id
    // and salts, so these tests pin the format even where node is not installed.
    private const string SdkCiphertextVersion1 = """{"iv":"0wMCAltL7i0n56bs","data":"n6O7qxaxr53KYTMxvPmdazl2W9ghiqJtfFZtXfAR0hbA4zB/jAzQaPSx6gkz8+4UXx955VW0LKt+ly/qZNK0kJinH4JEcdM="}""";
    private const string SdkPlaintextVersion1 = """{"pin":"tiger","n":[1,2.5,null,true],"s":"héllo 😀"}""";
    private const string SdkCiphertextVersion0 = """{"iv":"zRgOC5aJvnJtpnFz","data":"5F1OLBLMV/ZG8HT9LbMhN8oIw97qhi+ii5k2UnM7qfbS"}""";

    private static string Code(Action action) => Assert.Throws<VaultEncryptionException>(action).Code;

    [Fact]
    public void Values_written_by_the_sdk_decrypt_with_their_key_version_current_and_previous()
    {
        Assert.Equal(SdkPlaintextVersion1, Rotated.Decrypt(SdkCiphertextVersion1, 1));
        Assert.Equal("\"before rotation\"", Rotated.Decrypt(SdkCiphertextVersion0, 0));
        Assert.Equal("tiger", Rotated.DecryptToElement(SdkCiphertextVersion1, 1).GetProperty("pin").GetString());
    }

    [Fact]
    public void Encrypt_uses_the_current_version_and_the_sdk_shape_with_a_fresh_12_byte_iv()
    {
        var first = Rotated.Encrypt("""{"a":1}""");
        var second = Rotated.Encrypt("""{"a":1}""");

        Assert.Equal(1, first.KeyVersion);
        Assert.Equal(1, Rotated.CurrentKeyVersion);
        Assert.NotEqual(first.Ciphertext, second.Ciphertext);
        using var shape = JsonDocument.Parse(first.Ciphertext);
        Assert.Equal(["iv", "data"], shape.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(EncryptionKey.IvSize, Convert.FromBase64String(shape.RootElement.GetProperty("iv").GetString()!).Length);
        Assert.Equal("""{"a":1}""".Length + EncryptionKey.TagSize, Convert.FromBase64String(shape.RootElement.GetProperty("data").GetString()!).Length);
        Assert.StartsWith("{\"iv\":\"", first.Ciphertext, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", first.Ciphertext, StringComparison.Ordinal);
        Assert.Equal("""{"a":1}""", Rotated.Decrypt(first.Ciphertext, first.KeyVersion));
    }

    [Fact]
    public void A_json_element_round_trips_as_its_own_text()
    {
        var value = JsonSerializer.SerializeToElement(new { text = "whisper", at = 3 });
        var encrypted = Rotated.Encrypt(value);
        Assert.True(JsonElement.DeepEquals(value, Rotated.DecryptToElement(encrypted.Ciphertext, encrypted.KeyVersion)));
    }

    [Fact]
    public void Values_of_the_previous_version_stay_readable_after_a_rotation()
    {
        var before = VaultEncryption.Create(Passphrase, ObjectId, BeforeRotation);
        var old = before.Encrypt("\"old\"");
        Assert.Equal(0, old.KeyVersion);

        var after = before.WithSettings(AfterRotation);
        Assert.Equal(1, after.CurrentKeyVersion);
        Assert.Equal([0, 1], after.KeyVersions);
        Assert.Equal("\"old\"", after.Decrypt(old.Ciphertext, 0));
        Assert.Equal(1, after.Encrypt("\"new\"").KeyVersion);
    }

    [Fact]
    public void A_wrong_passphrase_or_another_object_id_fails_authentication_with_a_clear_code()
    {
        var value = Rotated.Encrypt("\"secret\"");
        var wrongPassphrase = VaultEncryption.Create("correct horse battery stapler", ObjectId, AfterRotation);
        var otherObject = VaultEncryption.Create(Passphrase, "room-43", AfterRotation);

        var error = Assert.Throws<VaultEncryptionException>(() => wrongPassphrase.Decrypt(value.Ciphertext, value.KeyVersion));
        Assert.Equal(EncryptionErrorCodes.DecryptionFailed, error.Code);
        Assert.Contains("wrong passphrase", error.Message, StringComparison.Ordinal);
        Assert.Equal(EncryptionErrorCodes.DecryptionFailed, Code(() => otherObject.Decrypt(value.Ciphertext, value.KeyVersion)));
    }

    [Fact]
    public void A_value_decrypted_under_the_wrong_version_label_fails_authentication()
    {
        var value = Rotated.Encrypt("\"secret\"");
        Assert.Equal(EncryptionErrorCodes.DecryptionFailed, Code(() => Rotated.Decrypt(value.Ciphertext, 0)));
    }

    [Fact]
    public void A_key_version_the_settings_do_not_list_is_refused_as_unknown()
    {
        var before = VaultEncryption.Create(Passphrase, ObjectId, BeforeRotation);
        var error = Assert.Throws<VaultEncryptionException>(() => before.Decrypt(SdkCiphertextVersion1, 1));
        Assert.Equal(EncryptionErrorCodes.KeyVersionUnknown, error.Code);
        Assert.False(before.HasKeyVersion(1));
        Assert.Equal(EncryptionErrorCodes.KeyVersionUnknown, Code(() => Rotated.Decrypt(SdkCiphertextVersion1, 7)));
        Assert.Equal(EncryptionErrorCodes.KeyVersionUnknown, Code(() => Rotated.Decrypt(SdkCiphertextVersion1, -1)));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("\"a plain string\"")]
    [InlineData("""{"iv":"AAAA","data":"AAAAAAAAAAAAAAAAAAAAAA=="}""")]
    [InlineData("""{"iv":"AAAAAAAAAAAAAAAA","data":"AAAA"}""")]
    [InlineData("""{"iv":"AAAAAAAAAAAAAAAA","data":"not base64!"}""")]
    [InlineData("""{"iv":1,"data":"AAAAAAAAAAAAAAAAAAAAAA=="}""")]
    public void Text_that_is_not_sdk_ciphertext_is_refused_as_malformed(string ciphertext) =>
        Assert.Equal(EncryptionErrorCodes.CiphertextMalformed, Code(() => Rotated.Decrypt(ciphertext, 1)));

    [Fact]
    public void Padding_may_be_left_off_as_atob_allows()
    {
        using var shape = JsonDocument.Parse(SdkCiphertextVersion0);
        var unpadded = JsonSerializer.Serialize(new
        {
            iv = shape.RootElement.GetProperty("iv").GetString(),
            data = shape.RootElement.GetProperty("data").GetString()!.TrimEnd('='),
        });
        Assert.Equal("\"before rotation\"", Rotated.Decrypt(unpadded, 0));
    }

    [Fact]
    public void Only_json_text_is_encrypted()
    {
        Assert.Throws<ArgumentException>(() => Rotated.Encrypt("not json"));
        Assert.Throws<ArgumentException>(() => Rotated.Encrypt(default(JsonElement)));
    }

    [Fact]
    public void The_servers_settings_answer_is_read_with_every_previous_version()
    {
        const string answer = """
            {"encryptionSettings":{"salt":"AAECAwQFBgcICQoLDA0ODw==","keyVersion":1,"createdAt":1700000001000},
             "previousEncryptionSettings":[{"salt":"EBESExQVFhcYGRobHB0eHw==","keyVersion":0,"createdAt":1700000000000}]}
            """;
        var settings = VaultKeySettingsInfo.Parse(answer);
        Assert.Equal(Version1, settings.Current);
        Assert.Equal([Version0], settings.Previous);

        var encryption = VaultEncryption.Create(Passphrase, ObjectId, settings);
        Assert.Equal(SdkPlaintextVersion1, encryption.Decrypt(SdkCiphertextVersion1, 1));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"encryptionSettings":{"keyVersion":0}}""")]
    [InlineData("""{"encryptionSettings":{"salt":"AA==","keyVersion":"0"}}""")]
    [InlineData("""{"encryptionSettings":{"salt":"AA==","keyVersion":0},"previousEncryptionSettings":{}}""")]
    [InlineData("""{"encryptionSettings":{"salt":"AA==","keyVersion":2.5}}""")]
    [InlineData("{")]
    public void A_settings_answer_of_another_shape_is_refused(string json) =>
        Assert.Equal(EncryptionErrorCodes.SettingsInvalid, Code(() => VaultKeySettingsInfo.Parse(json)));

    [Fact]
    public void Settings_with_a_bad_salt_or_a_repeated_or_negative_version_are_refused()
    {
        Assert.Equal(EncryptionErrorCodes.SettingsInvalid, Code(() => VaultEncryption.Create(Passphrase, ObjectId, new(new("not base64!", 0, 0), []))));
        Assert.Equal(EncryptionErrorCodes.SettingsInvalid, Code(() => VaultEncryption.Create(Passphrase, ObjectId, new(Version1, [Version1]))));
        Assert.Equal(EncryptionErrorCodes.SettingsInvalid, Code(() => VaultEncryption.Create(Passphrase, ObjectId, new(Version0 with { KeyVersion = -1 }, []))));
    }

    [Fact]
    public void An_empty_passphrase_is_refused_because_the_sdk_treats_it_as_no_encryption() =>
        Assert.Throws<ArgumentException>(() => VaultEncryption.Create("", ObjectId, BeforeRotation));

    [Fact]
    public void Only_a_label_that_is_present_and_not_negative_marks_ciphertext()
    {
        Assert.True(VaultEncryption.IsEncrypted(0));
        Assert.False(VaultEncryption.IsEncrypted(null));
        Assert.False(VaultEncryption.IsEncrypted(-1));
    }

    [Fact]
    public void Non_default_derivation_options_change_the_key()
    {
        var faster = VaultEncryption.Create(Passphrase, ObjectId, BeforeRotation, new KeyDerivationOptions { Iterations = 1_000, KeySizeBits = 128 });
        var value = faster.Encrypt("[1]");
        Assert.Equal("[1]", faster.Decrypt(value.Ciphertext, 0));
        Assert.Equal(EncryptionErrorCodes.DecryptionFailed, Code(() => Rotated.Decrypt(value.Ciphertext, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => VaultEncryption.Create(Passphrase, ObjectId, BeforeRotation, new KeyDerivationOptions { KeySizeBits = 512 }));
    }
}
