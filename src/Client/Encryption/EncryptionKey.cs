using System.Security.Cryptography;
using System.Text;

namespace OrleansVault.Client.Encryption;

/// <summary>
/// The AES-GCM key of one key version of one object, derived as the SDK derives it: PBKDF2 over the UTF-8 of
/// <c>passphrase + ":" + objectId</c> with the version's salt. The .NET counterpart of the SDK's encryption handler.
/// </summary>
public sealed class EncryptionKey
{
    /// <summary>The IV length the SDK generates and the only one accepted (AES-GCM's 96-bit nonce).</summary>
    public const int IvSize = 12;

    /// <summary>The AES-GCM tag length (WebCrypto's default), appended to the ciphertext bytes.</summary>
    public const int TagSize = 16;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly byte[] _key;

    private EncryptionKey(byte[] key, int keyVersion)
    {
        _key = key;
        KeyVersion = keyVersion;
    }

    /// <summary>The key version this key belongs to.</summary>
    public int KeyVersion { get; }

    /// <summary>Derives the key of one key version (one PBKDF2 run: tens of milliseconds with the default options).</summary>
    public static EncryptionKey Derive(string passphrase, string objectId, VaultKeySettings settings, KeyDerivationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!SdkCiphertext.TryDecodeBase64(settings.Salt, out var salt))
        {
            throw new VaultEncryptionException(EncryptionErrorCodes.SettingsInvalid, $"The salt of key version {settings.KeyVersion} is not base64.");
        }

        return new EncryptionKey(DeriveBytes(passphrase, objectId, salt, options ?? KeyDerivationOptions.Default), settings.KeyVersion);
    }

    /// <summary>Encrypts a text (the SDK encrypts <c>JSON.stringify(value)</c>) into the SDK's ciphertext text.</summary>
    public string Encrypt(string plaintext)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        return EncryptUtf8(Utf8.GetBytes(plaintext));
    }

    /// <summary>Decrypts the SDK's ciphertext text; a wrong key or altered bytes throw <see cref="VaultEncryptionException"/>.</summary>
    public string Decrypt(string ciphertext)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        if (!SdkCiphertext.TryParse(ciphertext, out var iv, out var data) || iv.Length != IvSize || data.Length < TagSize)
        {
            throw new VaultEncryptionException(EncryptionErrorCodes.CiphertextMalformed, "The value is not an end-to-end encrypted value of the Vaultrice SDK.");
        }

        var plaintext = new byte[data.Length - TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(iv, data.AsSpan(0, plaintext.Length), data.AsSpan(plaintext.Length), plaintext);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new VaultEncryptionException(
                EncryptionErrorCodes.DecryptionFailed,
                $"The value could not be decrypted with key version {KeyVersion}: a wrong passphrase or object id, or the value was altered.",
                e);
        }

        // TextDecoder (as the SDK uses it) drops a leading byte order mark.
        var text = plaintext.AsSpan();
        return Utf8.GetString(text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? text[3..] : text);
    }

    internal string EncryptUtf8(ReadOnlySpan<byte> plaintext)
    {
        // AesGcm is created per call: an instance is not safe to share between threads, and the key schedule is cheap.
        Span<byte> iv = stackalloc byte[IvSize];
        RandomNumberGenerator.Fill(iv);
        var data = new byte[plaintext.Length + TagSize];
        using (var aes = new AesGcm(_key, TagSize))
        {
            aes.Encrypt(iv, plaintext, data.AsSpan(0, plaintext.Length), data.AsSpan(plaintext.Length));
        }

        return SdkCiphertext.Format(iv, data);
    }

    private static byte[] DeriveBytes(string passphrase, string objectId, byte[] salt, KeyDerivationOptions options)
    {
        // The SDK treats an empty passphrase as "no encryption", so it can never be a key here.
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        ArgumentException.ThrowIfNullOrEmpty(objectId);
        options.Validate();
        return Rfc2898DeriveBytes.Pbkdf2(Utf8.GetBytes(passphrase + ":" + objectId), salt, options.Iterations, options.Hash, options.KeySizeBits / 8);
    }
}
