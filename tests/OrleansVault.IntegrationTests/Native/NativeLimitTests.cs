using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
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

    [Fact]
    public async Task A_closed_connection_frees_its_connection_slot_and_a_closed_object_its_object_slot()
    {
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Limits:MaxConnectionsPerKey"] = "1",
            ["Vault:Hub:MaxObjectsPerConnection"] = "1",
        });
        var holder = await gateway.ConnectAsync();
        var room = await holder.OpenAsync("slots", "a");
        Assert.Equal("limitError.objects.perConnection", (await Assert.ThrowsAsync<VaultClientException>(() => holder.OpenAsync("slots", "b"))).Code);
        await room.DisposeAsync();
        await holder.OpenAsync("slots", "b");

        // The key's one connection is taken: a second is closed with the limit's code (a raw hub connection, so the
        // Closed handler is in place before the gateway can close it), and gets in once the first left.
        var refused = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway.BaseUrl, NativeProtocol.HubPath.TrimStart('/') + "?" + NativeProtocol.ProjectParameter + "=" + GatewayFactory.ProjectId), http =>
            {
                http.AccessTokenProvider = async () => await gateway.TokenAsync();
                http.SkipNegotiation = true;
                http.Transports = HttpTransportType.WebSockets;
            })
            .Build();
        await using (refused)
        {
            var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            refused.Closed += error =>
            {
                closed.TrySetResult(error);
                return Task.CompletedTask;
            };
            await refused.StartAsync();
            Assert.Contains("limitError.connections.tooMany", (await closed.Task.WaitAsync(Wait.Deadline))?.Message, StringComparison.Ordinal);
        }

        await holder.DisposeAsync();
        await Wait.UntilAsync(async () =>
        {
            await using var next = await gateway.ConnectAsync();
            try
            {
                await next.OpenAsync("slots", "c");
                return true;
            }
            catch (VaultClientException)
            {
                return false;
            }
        }, "the first connection's slot to be released");
    }
}
