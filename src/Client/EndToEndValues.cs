using System.Text.Json;
using OrleansVault.Client.Encryption;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>
/// End-to-end encrypted values, as @vaultrice/sdk stores them: the value (and a message's payload, a presence entry's
/// data) is a JSON string holding the ciphertext, labelled with its key version. Plaintext items (no key version, or
/// the SDK's -1) read as they are.
/// </summary>
internal sealed class EndToEndValues(VaultEncryption encryption) : IValueCipher
{
    private VaultEncryption _encryption = encryption;

    public static EndToEndValues Create(string passphrase, ObjectRef target, EncryptionData settings) =>
        new(VaultEncryption.Create(passphrase, target.Id, ToSettings(settings)));

    /// <summary>Takes new settings (after a rotation, here or by another client); keys already derived are kept.</summary>
    public void Update(EncryptionData settings) => _encryption = _encryption.WithSettings(ToSettings(settings));

    public bool Knows(int keyVersion) => _encryption.HasKeyVersion(keyVersion);

    public (string Json, int? KeyVersion) Seal(string plainJson)
    {
        var encrypted = _encryption.Encrypt(plainJson);
        return (JsonSerializer.Serialize(encrypted.Ciphertext), encrypted.KeyVersion);
    }

    public string Open(string storedJson, int? keyVersion)
    {
        if (!VaultEncryption.IsEncrypted(keyVersion))
        {
            return storedJson;
        }

        string? ciphertext;
        try
        {
            ciphertext = JsonSerializer.Deserialize<string>(storedJson);
        }
        catch (JsonException error)
        {
            throw new VaultClientException(ClientErrorCodes.Decryption, "An encrypted value is not a ciphertext string.", error);
        }

        try
        {
            return _encryption.Decrypt(ciphertext ?? string.Empty, keyVersion!.Value);
        }
        catch (VaultEncryptionException error)
        {
            throw new VaultClientException(error.Code, error.Message, error);
        }
    }

    private static VaultKeySettingsInfo ToSettings(EncryptionData data) =>
        new(ToKey(data.Current), [.. data.Previous.Select(ToKey)]);

    private static VaultKeySettings ToKey(EncryptionKeyData key) => new(key.Salt, key.KeyVersion, key.CreatedAt);
}
