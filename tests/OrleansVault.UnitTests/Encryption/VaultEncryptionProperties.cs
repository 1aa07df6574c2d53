using System.Text.Json;
using CsCheck;
using OrleansVault.Client.Encryption;
using static OrleansVault.UnitTests.Encryption.EncryptionFixtures;

namespace OrleansVault.UnitTests.Encryption;

/// <summary>Property tests: any JSON round-trips, and any change to a ciphertext is detected.</summary>
public sealed class VaultEncryptionProperties
{
    // Any UTF-16 text, lone surrogates included: System.Text.Json escapes them as JSON.stringify does.
    private static readonly Gen<string> JsonStrings = Gen.String.Select(s => JsonSerializer.Serialize(s));

    private static readonly Gen<string> JsonObjects =
        Gen.Dictionary(Gen.String[Gen.Char.AlphaNumeric, 1, 8], Gen.OneOf(
                Gen.String.Select(s => (object?)s),
                Gen.Double.Select(d => (object?)(double.IsFinite(d) ? d : 0)),
                Gen.Bool.Select(b => (object?)b),
                Gen.Const((object?)null)))[0, 6]
            .Select(d => JsonSerializer.Serialize(d));

    [Fact]
    public void Any_json_string_round_trips_to_the_same_text_and_value()
    {
        JsonStrings.Sample(json =>
        {
            var encrypted = Rotated.Encrypt(json);
            return Rotated.Decrypt(encrypted.Ciphertext, encrypted.KeyVersion) == json
                && Rotated.DecryptToElement(encrypted.Ciphertext, encrypted.KeyVersion).GetString() == JsonSerializer.Deserialize<string>(json);
        });
    }

    [Fact]
    public void Any_json_object_round_trips_to_the_same_text()
    {
        JsonObjects.Sample(json =>
        {
            var encrypted = Rotated.Encrypt(json);
            return Rotated.Decrypt(encrypted.Ciphertext, encrypted.KeyVersion) == json;
        });
    }

    [Fact]
    public void Flipping_any_bit_of_the_iv_or_the_data_fails_authentication()
    {
        var plaintexts = JsonStrings.Select(json => (json, Rotated.Encrypt(json).Ciphertext));
        Gen.Select(plaintexts, Gen.Bool, Gen.Int[0, int.MaxValue], Gen.Int[0, 7]).Sample((sample, inIv, position, bit) =>
        {
            using var shape = JsonDocument.Parse(sample.Ciphertext);
            var iv = Convert.FromBase64String(shape.RootElement.GetProperty("iv").GetString()!);
            var data = Convert.FromBase64String(shape.RootElement.GetProperty("data").GetString()!);
            var target = inIv ? iv : data;
            target[position % target.Length] ^= (byte)(1 << bit);
            var tampered = JsonSerializer.Serialize(new { iv = Convert.ToBase64String(iv), data = Convert.ToBase64String(data) });
            var error = Assert.Throws<VaultEncryptionException>(() => Rotated.Decrypt(tampered, 1));
            return error.Code == EncryptionErrorCodes.DecryptionFailed;
        });
    }
}
