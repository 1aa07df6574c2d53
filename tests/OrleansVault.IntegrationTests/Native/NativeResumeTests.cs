using OrleansVault.Client;
using OrleansVault.Gateway.Native;
using OrleansVault.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>Reconnect and resubscribe by sequence: exactly the gap, or a refetch signal when history no longer covers it.</summary>
public sealed class NativeResumeTests
{
    private static string NewId() => "r" + Guid.NewGuid().ToString("N");

    /// <summary>Drops every hub connection the way a stopping gateway does; clients reconnect on their own.</summary>
    private static void DropConnections(KestrelGateway gateway) =>
        gateway.Factory.Services.GetRequiredService<NativeLifetimeManager>().DisconnectAll("serviceError.unavailable.retry", "test drop");

    [Theory]
    [InlineData(VaultProtocol.Json)]
    [InlineData(VaultProtocol.MessagePack)]
    public async Task A_reconnecting_client_gets_exactly_the_events_it_missed(VaultProtocol protocol)
    {
        await using var gateway = KestrelGateway.Start();
        var id = NewId();
        var tokens = new TokenGate(gateway);
        await using var vault = await gateway.ConnectAsync(tokens, protocol);
        var shared = await vault.OpenAsync("resume", id);
        var log = new EventLog(shared);
        await shared.JoinAsync(new { name = "me" });
        for (var i = 0; i < 5; i++)
        {
            await gateway.WriteOverHttpAsync("resume", id, "before" + i, i);
        }

        await log.WaitForAsync(e => e.Key == "before4", "the writes before the drop");
        var reconnected = 0;
        vault.Reconnected += () => Interlocked.Increment(ref reconnected);

        // The client cannot come back until the test opens the token gate, however long the writes take.
        tokens.Shut();
        DropConnections(gateway);
        await Wait.UntilAsync(() => Task.FromResult(vault.State != Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected), "the drop");

        // Written while the client is away: these are the gap.
        for (var i = 0; i < 20; i++)
        {
            await gateway.WriteOverHttpAsync("resume", id, "during" + i, i);
        }

        Assert.NotEqual(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected, vault.State);
        tokens.Open();
        await Wait.UntilAsync(() => Task.FromResult(Volatile.Read(ref reconnected) == 1), "the reconnect");
        await gateway.WriteOverHttpAsync("resume", id, "after", 1);
        await log.WaitForAsync(e => e.Key == "after", "the write after the reconnect");

        var items = log.Snapshot().Where(e => e.Kind == EventKind.SetItem).ToList();
        Assert.Equal(
            [.. Enumerable.Range(0, 5).Select(i => "before" + i), .. Enumerable.Range(0, 20).Select(i => "during" + i), "after"],
            items.Select(e => e.Key));
        var sequences = log.Snapshot().Select(e => e.Sequence).ToList();
        Assert.Equal(sequences.Distinct().Order(), sequences);
        Assert.DoesNotContain(log.Snapshot(), e => e.Kind == EventKind.Refetch);

        // The client joined presence again on its own, under its new connection id.
        var members = await shared.GetMembersAsync();
        Assert.Equal(shared.ConnectionId, Assert.Single(members).ConnectionId);
    }

    [Fact]
    public async Task A_gap_older_than_the_history_is_a_refetch_signal()
    {
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?> { ["Vault:Objects:HistoryLength"] = "4" });
        var id = NewId();
        var tokens = new TokenGate(gateway);
        await using var vault = await gateway.ConnectAsync(tokens);
        var shared = await vault.OpenAsync("refetch", id);
        var log = new EventLog(shared);
        await gateway.WriteOverHttpAsync("refetch", id, "first", 0);
        await log.WaitForAsync(e => e.Key == "first", "the first write");

        tokens.Shut();
        DropConnections(gateway);
        await Wait.UntilAsync(() => Task.FromResult(vault.State != Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected), "the drop");
        for (var i = 0; i < 12; i++)
        {
            await gateway.WriteOverHttpAsync("refetch", id, "missed" + i, i);
        }

        tokens.Open();

        var refetch = await log.WaitForAsync(e => e.Kind == EventKind.Refetch, "the refetch signal");
        Assert.True(shared.LastSequence >= refetch.Sequence);
        Assert.DoesNotContain(log.Snapshot(), e => e.Key == "missed0");

        // The state is read again, and live events go on after the refetch position.
        Assert.Equal(13, (await shared.GetAllAsync<int>()).Count);
        await gateway.WriteOverHttpAsync("refetch", id, "later", 1);
        var later = await log.WaitForAsync(e => e.Key == "later", "a live event after the refetch");
        Assert.Equal(refetch.Sequence + 1, later.Sequence);
    }
}
