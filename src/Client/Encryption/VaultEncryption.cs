using System.Text;
using System.Text.Json;

namespace OrleansVault.Client.Encryption;

/// <summary>
/// End-to-end encryption of one object, compatible with the Vaultrice SDK's passphrase mode: encrypts with the
/// current key version and decrypts with whichever version a value, message or presence entry is labelled with.
/// Values, message payloads and presence data are all encrypted the same way (the JSON text of the payload).
/// Thread-safe; the current key is derived on creation, previous ones on first use.
/// </summary>
public sealed class VaultEncryption
{
    // Deeper than the server's own limit: what the SDK encrypts is an opaque string to the server, and JSON.parse
    // has no depth limit of its own.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 512 };

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly string _passphrase;
    private readonly string _objectId;
    private readonly KeyDerivationOptions _options;
    private readonly IReadOnlyDictionary<int, Lazy<EncryptionKey>> _keys;
    private readonly IReadOnlyDictionary<int, string> _salts;
    private readonly EncryptionKey _current;

    private VaultEncryption(string passphrase, string objectId, KeyDerivationOptions options, VaultKeySettingsInfo settings, VaultEncryption? reuse)
    {
        _passphrase = passphrase;
        _objectId = objectId;
        _options = options;
        var keys = new Dictionary<int, Lazy<EncryptionKey>>();
        var salts = new Dictionary<int, string>();
        foreach (var version in settings.Previous.Prepend(settings.Current))
        {
            ArgumentNullException.ThrowIfNull(version);
            if (version.KeyVersion < 0 || !salts.TryAdd(version.KeyVersion, version.Salt))
            {
                throw new VaultEncryptionException(EncryptionErrorCodes.SettingsInvalid, $"Key version {version.KeyVersion} is negative or listed twice.");
            }

            if (!SdkCiphertext.TryDecodeBase64(version.Salt, out _))
            {
                throw new VaultEncryptionException(EncryptionErrorCodes.SettingsInvalid, $"The salt of key version {version.KeyVersion} is not base64.");
            }

            // A version whose salt did not change keeps its derived key across a rotation.
            keys[version.KeyVersion] = reuse is not null && reuse._salts.TryGetValue(version.KeyVersion, out var salt) && salt == version.Salt
                ? reuse._keys[version.KeyVersion]
                : new Lazy<EncryptionKey>(() => EncryptionKey.Derive(_passphrase, _objectId, version, _options), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        _keys = keys;
        _salts = salts;
        CurrentKeyVersion = settings.Current.KeyVersion;
        _current = _keys[CurrentKeyVersion].Value;
    }

    /// <summary>The key version new ciphertexts are made with (send it as <c>X-Enc-KV</c> / <c>keyVersion</c>).</summary>
    public int CurrentKeyVersion { get; }

    /// <summary>Every key version this instance can decrypt.</summary>
    public IReadOnlyCollection<int> KeyVersions => [.. _keys.Keys.Order()];

    /// <summary>Derives the keys of an object from the passphrase and the server's encryption settings.</summary>
    public static VaultEncryption Create(string passphrase, string objectId, VaultKeySettingsInfo settings, KeyDerivationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        ArgumentException.ThrowIfNullOrEmpty(objectId);
        ArgumentNullException.ThrowIfNull(settings);
        var checkedOptions = options ?? KeyDerivationOptions.Default;
        checkedOptions.Validate();
        return new VaultEncryption(passphrase, objectId, checkedOptions, settings, reuse: null);
    }

    /// <summary>The same passphrase and object under new settings (after a rotation), keeping keys already derived.</summary>
    public VaultEncryption WithSettings(VaultKeySettingsInfo settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new VaultEncryption(_passphrase, _objectId, _options, settings, reuse: this);
    }

    /// <summary>Whether a key version label marks its payload as ciphertext (the SDK's rule: present and not negative).</summary>
    public static bool IsEncrypted(int? keyVersion) => keyVersion is >= 0;

    /// <summary>Whether a key version is among the settings this instance was made with.</summary>
    public bool HasKeyVersion(int keyVersion) => _keys.ContainsKey(keyVersion);

    /// <summary>Encrypts a JSON text (a value, message payload or presence data) with the current key version.</summary>
    public EncryptedValue Encrypt(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var bytes = Utf8.GetBytes(json);
        try
        {
            // The SDK JSON.parses what it decrypts: encrypting anything else would make a value no JS client can read.
            using var _ = JsonDocument.Parse(bytes, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new ArgumentException("Only JSON text can be encrypted for the Vaultrice SDK.", nameof(json), e);
        }

        return new EncryptedValue(_current.EncryptUtf8(bytes), CurrentKeyVersion);
    }

    /// <summary>Encrypts a JSON value (a value, message payload or presence data) with the current key version.</summary>
    public EncryptedValue Encrypt(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("An undefined JSON element has no value to encrypt.", nameof(value));
        }

        return new EncryptedValue(_current.EncryptUtf8(Utf8.GetBytes(value.GetRawText())), CurrentKeyVersion);
    }

    /// <summary>Decrypts a ciphertext labelled with <paramref name="keyVersion"/> back to its JSON text.</summary>
    public string Decrypt(string ciphertext, int keyVersion)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        if (!_keys.TryGetValue(keyVersion, out var key))
        {
            throw new VaultEncryptionException(
                EncryptionErrorCodes.KeyVersionUnknown,
                $"Key version {keyVersion} is not among this object's encryption settings ({string.Join(", ", KeyVersions)}): fetch the settings again.");
        }

        return key.Value.Decrypt(ciphertext);
    }

    /// <summary>Decrypts a ciphertext labelled with <paramref name="keyVersion"/> back to its JSON value.</summary>
    public JsonElement DecryptToElement(string ciphertext, int keyVersion)
    {
        var json = Decrypt(ciphertext, keyVersion);
        try
        {
            using var document = JsonDocument.Parse(json, DocumentOptions);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new VaultEncryptionException(EncryptionErrorCodes.PlaintextInvalid, "The decrypted value is not JSON.", e);
        }
    }
}
