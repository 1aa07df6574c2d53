using OrleansVault.Client;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>End-to-end encrypted objects shared by .NET clients: a key rotation by one is followed by the others' events.</summary>
public sealed class NativeEncryptionTests(SharedKestrelGateway shared) : IClassFixture<SharedKestrelGateway>
{
    private const string Passphrase = "native encryption tests passphrase";

    [Fact]
    public async Task An_event_under_a_key_version_another_client_rotated_to_arrives_decrypted()
    {
        var id = "e" + Guid.NewGuid().ToString("N");
        await using var alice = await shared.Gateway.ConnectAsync();
        await using var bob = await shared.Gateway.ConnectAsync();
        var aliceRoom = await alice.OpenAsync("secrets", id, new OpenOptions { Passphrase = Passphrase });
        var bobRoom = await bob.OpenAsync("secrets", id, new OpenOptions { Passphrase = Passphrase });
        var log = new EventLog(aliceRoom);

        await bobRoom.RotateEncryptionAsync();
        await bobRoom.SetAsync("note", "after the rotation");

        var changed = await log.WaitForAsync(e => e.Key == "note", "the write under the new key version");
        Assert.Equal("after the rotation", changed.ValueAs<string>());
        Assert.NotEqual(0, changed.Item!.KeyVersion);
    }
}
