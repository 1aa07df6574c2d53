namespace OrleansVault.Client;

/// <summary>How a shared object turns plaintext JSON into what it stores and back: as is, or end-to-end encrypted.</summary>
internal interface IValueCipher
{
    /// <summary>What to send for <paramref name="plainJson"/>, with the key version when encrypted.</summary>
    (string Json, int? KeyVersion) Seal(string plainJson);

    /// <summary>The plaintext JSON of a stored value.</summary>
    string Open(string storedJson, int? keyVersion);
}

/// <summary>No end-to-end encryption: values travel as JSON (the gateway still encrypts them at rest).</summary>
internal sealed class PlainValues : IValueCipher
{
    public static readonly PlainValues Instance = new();

    public (string Json, int? KeyVersion) Seal(string plainJson) => (plainJson, null);

    public string Open(string storedJson, int? keyVersion) => storedJson;
}
