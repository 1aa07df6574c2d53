using Microsoft.Extensions.DependencyInjection;
using OrleansVault.Client;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>A connection that ends while its calls are still in flight (hub calls run in parallel) leaves nothing behind.</summary>
public sealed class NativeDisconnectRaceTests
{
    private static KestrelGateway Start(GrainCallGate gate) =>
        KestrelGateway.Start(services: services => services.AddSingleton<IOutgoingGrainCallFilter>(gate));

    /// <summary>A client whose dispose waits at most 1 s for the gateway to confirm each object's close.</summary>
    private static Task<VaultClient> ConnectWithShortCloseAsync(KestrelGateway gateway, IReadOnlyList<TimeSpan>? reconnectDelays = null)
    {
        var defaults = gateway.Options(reconnectDelays: reconnectDelays);
        return VaultClient.ConnectAsync(new VaultClientOptions
        {
            BaseUrl = defaults.BaseUrl,
            ProjectId = defaults.ProjectId,
            ApiKey = defaults.ApiKey,
            ApiSecret = defaults.ApiSecret,
            ReconnectDelays = defaults.ReconnectDelays,
            CloseTimeout = TimeSpan.FromSeconds(1),
        });
    }

    [Fact]
    public async Task A_connection_that_ends_while_an_open_is_in_flight_leaves_no_feed_or_attachment()
    {
        var gate = new GrainCallGate(nameof(ISharedObjectGrain.Subscribe));
        await using var gateway = Start(gate);
        var vault = await gateway.ConnectAsync();
        var opening = vault.OpenAsync("race", "open-" + Guid.NewGuid().ToString("N"));
        await gate.Entered.Task.WaitAsync(Wait.Deadline);

        // The connection ends and its objects are closed while the open waits for the object's feed.
        await vault.DisposeAsync().AsTask().WaitAsync(Wait.Deadline);
        await gate.Completed(nameof(ISharedObjectGrain.Detach)).WaitAsync(Wait.Deadline);
        gate.Release.TrySetResult();

        await Assert.ThrowsAnyAsync<Exception>(() => opening.WaitAsync(Wait.Deadline));
        var feeds = gateway.Factory.Services.GetRequiredService<ObjectFeeds>();
        await Wait.UntilAsync(() => Task.FromResult(feeds.ActiveFeeds == 0), "the feed of the dead connection's object to close");
    }

    [Fact]
    public async Task A_connection_that_ends_while_a_join_is_in_flight_leaves_no_presence_entry()
    {
        var gate = new GrainCallGate(nameof(ISharedObjectGrain.Join));
        await using var gateway = Start(gate);
        var id = "join-" + Guid.NewGuid().ToString("N");
        var vault = await gateway.ConnectAsync();
        var room = await vault.OpenAsync("race", id);
        var joining = room.JoinAsync(new { name = "late" });
        await gate.Entered.Task.WaitAsync(Wait.Deadline);

        // Only the connection ends (no Close first): the gateway closes the object while the join waits.
        await vault.Hub.DisposeAsync().AsTask().WaitAsync(Wait.Deadline);
        await gate.Completed(nameof(ISharedObjectGrain.Detach)).WaitAsync(Wait.Deadline);
        gate.Release.TrySetResult();

        await Assert.ThrowsAnyAsync<Exception>(() => joining.WaitAsync(Wait.Deadline));
        await vault.DisposeAsync().AsTask().WaitAsync(Wait.Deadline);
        var grain = gateway.Factory.Services.GetRequiredService<IClusterClient>().GetGrain<ISharedObjectGrain>(Names.Address(GatewayFactory.ProjectId, "race", id).GrainKey);
        await Wait.UntilAsync(async () => (await grain.GetPresence()).Count == 0, "the late join to be undone");
    }

    [Fact]
    public async Task Disposing_a_client_while_the_gateway_holds_an_object_call_takes_at_most_the_close_timeout()
    {
        var gate = new GrainCallGate(nameof(ISharedObjectGrain.Join));
        await using var gateway = Start(gate);
        var id = "dispose-" + Guid.NewGuid().ToString("N");
        var vault = await ConnectWithShortCloseAsync(gateway);
        var room = await vault.OpenAsync("race", id);
        var joining = room.JoinAsync(new { name = "held" });
        await gate.Entered.Task.WaitAsync(Wait.Deadline);

        // The gateway cannot confirm the close while the join waits in the object; the dispose does not wait for it.
        await vault.DisposeAsync().AsTask().WaitAsync(Wait.Deadline);
        Assert.Equal(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Disconnected, vault.Hub.State);
        gate.Release.TrySetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => joining.WaitAsync(Wait.Deadline));

        // The connection's end closed the object on the gateway: the late join is undone.
        var grain = gateway.Factory.Services.GetRequiredService<IClusterClient>().GetGrain<ISharedObjectGrain>(Names.Address(GatewayFactory.ProjectId, "race", id).GrainKey);
        await Wait.UntilAsync(async () => (await grain.GetPresence()).Count == 0, "the held join to be undone");
    }

    [Fact]
    public async Task Disposing_a_client_while_it_restores_its_objects_leaves_no_attachment_behind()
    {
        // The object's first Attach (the open) goes through; the second (the restore after the reconnect) is held.
        var gate = new GrainCallGate(nameof(ISharedObjectGrain.Attach), skip: 1);
        await using var gateway = Start(gate);
        var vault = await ConnectWithShortCloseAsync(gateway, reconnectDelays: [TimeSpan.Zero]);
        await vault.OpenAsync("race", "restore-" + Guid.NewGuid().ToString("N"));
        gateway.Factory.Services.GetRequiredService<Gateway.Native.NativeLifetimeManager>().DisconnectAll("serviceError.unavailable.retry", "test drop");
        await gate.Entered.Task.WaitAsync(Wait.Deadline);

        // The client reconnected and its restore waits in the object: disposing it does not wait for the restore.
        await vault.DisposeAsync().AsTask().WaitAsync(Wait.Deadline);
        Assert.Equal(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Disconnected, vault.Hub.State);
        gate.Release.TrySetResult();

        // The late attachment of the restore is undone with the connection: the object's feed on the gateway closes.
        var feeds = gateway.Factory.Services.GetRequiredService<ObjectFeeds>();
        await Wait.UntilAsync(() => Task.FromResult(feeds.ActiveFeeds == 0), "the feed of the disposed client's object to close");
    }

    [Fact]
    public async Task A_close_timeout_that_is_not_positive_is_refused_before_connecting() =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => VaultClient.ConnectAsync(new VaultClientOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:9/"),
            ProjectId = GatewayFactory.ProjectId,
            ApiKey = GatewayFactory.ApiKey,
            ApiSecret = GatewayFactory.Secret,
            CloseTimeout = TimeSpan.Zero,
        }));
}
