using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>End-to-end encrypted values, compatible with @vaultrice/sdk (see Encryption/).</summary>
internal static class EndToEndValues
{
    public static IValueCipher Create(string passphrase, ObjectRef target, string projectId, EncryptionData settings) =>
        throw new VaultClientException(ClientErrorCodes.Unexpected, "End-to-end encryption is not available in this build yet.");
}
