using OrleansVault.Client.Encryption;

namespace OrleansVault.UnitTests.Encryption;

/// <summary>Settings of one object before and after one rotation, and keys derived once for the whole test run.</summary>
internal static class EncryptionFixtures
{
    public const string Passphrase = "correct horse battery staple";
    public const string ObjectId = "room-42";

    public static readonly VaultKeySettings Version0 = new("EBESExQVFhcYGRobHB0eHw==", 0, 1_700_000_000_000);
    public static readonly VaultKeySettings Version1 = new("AAECAwQFBgcICQoLDA0ODw==", 1, 1_700_000_001_000);

    /// <summary>Before the rotation: version 0 only.</summary>
    public static readonly VaultKeySettingsInfo BeforeRotation = new(Version0, []);

    /// <summary>After the rotation: version 1 current, version 0 previous (as the server lists it).</summary>
    public static readonly VaultKeySettingsInfo AfterRotation = new(Version1, [Version0]);

    /// <summary>Keys derived once: PBKDF2 with the SDK's 100,000 iterations is deliberately slow.</summary>
    public static readonly VaultEncryption Rotated = VaultEncryption.Create(Passphrase, ObjectId, AfterRotation);
}
