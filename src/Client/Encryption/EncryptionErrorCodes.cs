namespace OrleansVault.Client.Encryption;

/// <summary>The stable codes of <see cref="VaultEncryptionException"/>, one per way end-to-end decryption can fail.</summary>
public static class EncryptionErrorCodes
{
    /// <summary>The key version is not among the object's encryption settings (current or previous).</summary>
    public const string KeyVersionUnknown = "encryptionError.keyVersion.unknown";

    /// <summary>AES-GCM authentication failed: a wrong passphrase or object id, or the ciphertext was altered.</summary>
    public const string DecryptionFailed = "encryptionError.decryption.failed";

    /// <summary>The stored value is not the SDK's ciphertext shape (<c>{"iv":"…","data":"…"}</c> with a 12-byte IV).</summary>
    public const string CiphertextMalformed = "encryptionError.ciphertext.malformed";

    /// <summary>The decrypted text is not JSON, so the SDK could not have written it.</summary>
    public const string PlaintextInvalid = "encryptionError.plaintext.invalid";

    /// <summary>The encryption settings are unusable: a salt that is not base64, a negative or repeated key version.</summary>
    public const string SettingsInvalid = "encryptionError.settings.invalid";
}
