namespace OrleansVault.Client.Encryption;

/// <summary>End-to-end encryption failed; <see cref="Code"/> is one of <see cref="EncryptionErrorCodes"/>.</summary>
public sealed class VaultEncryptionException : Exception
{
    /// <summary>Creates the exception with its stable code.</summary>
    public VaultEncryptionException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    /// <summary>One of <see cref="EncryptionErrorCodes"/>.</summary>
    public string Code { get; }
}
