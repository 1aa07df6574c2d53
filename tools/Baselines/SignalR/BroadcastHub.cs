using Microsoft.AspNetCore.SignalR;
using OrleansVault.Baselines.Diagnostics;

namespace OrleansVault.Baselines.SignalR;

/// <summary>A plain SignalR hub: one group per topic, every publish sent to the whole group.</summary>
internal sealed class BroadcastHub(ConnectionCounters counters) : Hub
{
    /// <summary>The client method every published payload arrives on.</summary>
    public const string EventMethod = "event";

    public Task Subscribe(string topic) => Groups.AddToGroupAsync(Context.ConnectionId, topic);

    public Task Unsubscribe(string topic) => Groups.RemoveFromGroupAsync(Context.ConnectionId, topic);

    public Task Publish(string topic, string payload) => Clients.Group(topic).SendAsync(EventMethod, payload);

    public override Task OnConnectedAsync()
    {
        counters.SignalRConnected();
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        counters.SignalRDisconnected();
        return base.OnDisconnectedAsync(exception);
    }
}
