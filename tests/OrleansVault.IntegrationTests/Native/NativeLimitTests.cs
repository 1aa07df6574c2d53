using OrleansVault.Client;
using OrleansVault.Protocol;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>The hub's per-connection limits: open objects, call rate; and closing an object ends its presence.</summary>
public sealed class NativeLimitTests
{
    [Fact]
    public async Task Open_objects_and_the_call_rate_are_limited_per_connection_with_stable_codes_and_close_frees_a_slot()
    {
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Hub:MaxObjectsPerConnection"] = "2",
            ["Vault:Hub:CallsPerSecond"] = "1",
            ["Vault:Hub:CallBurst"] = "8",
        });
        await using var vault = await gateway.ConnectAsync();
        await using var watcher = await gateway.ConnectAsync();
        var first = await vault.OpenAsync("limits", "a");
        await vault.OpenAsync("limits", "b");
        var tooMany = await Assert.ThrowsAsync<VaultClientException>(() => vault.OpenAsync("limits", "c"));
        Assert.Equal("limitError.objects.perConnection", tooMany.Code);

        // Closing an object leaves presence (others see it) and frees its slot.
        var watched = await watcher.OpenAsync("limits", "a");
        var log = new EventLog(watched);
        await first.JoinAsync(new { name = "first" });
        await log.WaitForAsync(e => e.Kind == EventKind.PresenceJoin, "the join");
        await first.DisposeAsync();
        await log.WaitForAsync(e => e.Kind == EventKind.PresenceLeave, "the leave when the object was closed");

        // The burst is spent by now (eight calls at one a second): the next calls are refused, the connection stays.
        VaultClientException? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            try
            {
                await (await vault.OpenAsync("limits", "c" + i)).DisposeAsync();
            }
            catch (VaultClientException error) when (error.Code == "limitError.requests.retry")
            {
                limited = error;
            }
        }

        Assert.NotNull(limited);
        Assert.True(limited.IsTransient);
        Assert.Equal(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected, vault.State);
    }
}
