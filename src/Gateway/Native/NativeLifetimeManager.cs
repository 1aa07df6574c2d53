using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>
/// SignalR's own in-process lifetime manager, remembering each connection so the gateway can drop one with a reason:
/// a close message carrying the error code (the client's <c>Closed</c> event shows it), then an abort.
/// </summary>
public sealed class NativeLifetimeManager(ILogger<DefaultHubLifetimeManager<VaultHub>> logger, IOptions<NativeOptions> options) : DefaultHubLifetimeManager<VaultHub>(logger)
{
    private readonly ConcurrentDictionary<string, HubConnectionContext> _connections = new(StringComparer.Ordinal);

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        _connections[connection.ConnectionId] = connection;
        return base.OnConnectedAsync(connection);
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        _connections.TryRemove(connection.ConnectionId, out _);
        return base.OnDisconnectedAsync(connection);
    }

    /// <summary>
    /// Closes the connection with <paramref name="code"/>; <paramref name="allowReconnect"/> lets automatic reconnect
    /// try again (a slow subscriber or an expired token may, and resume from its last sequence).
    /// </summary>
    public void Disconnect(string connectionId, string code, string message, bool allowReconnect)
    {
        if (!_connections.TryGetValue(connectionId, out var connection))
        {
            return;
        }

        _ = CloseAsync(connection, NativeProtocol.FormatError(code, message), allowReconnect, options.Value.CloseTimeout);
    }

    /// <summary>How many native connections this gateway holds.</summary>
    public int Count => _connections.Count;

    /// <summary>The authenticated native connections on this gateway.</summary>
    public IEnumerable<NativeConnection> OpenConnections =>
        _connections.Values.Select(c => c.Items.TryGetValue(VaultHub.ConnectionItem, out var value) ? value as NativeConnection : null).OfType<NativeConnection>();

    /// <summary>Asks every connection to reconnect (the gateway is stopping: clients move to another gateway and resume).</summary>
    public void DisconnectAll(string code, string message)
    {
        foreach (var connectionId in _connections.Keys)
        {
            Disconnect(connectionId, code, message, allowReconnect: true);
        }
    }

    private static async Task CloseAsync(HubConnectionContext connection, string error, bool allowReconnect, TimeSpan closeTimeout)
    {
        // The close message goes out after whatever is already queued (a slow client reads its backlog first); a client
        // that never reads again is aborted once the close timeout passes.
        using var timeout = new CancellationTokenSource(closeTimeout);
        try
        {
            await connection.WriteAsync(new CloseMessage(error, allowReconnect), timeout.Token);
        }
        catch (Exception writeError) when (writeError is OperationCanceledException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection is going away either way.
        }
        finally
        {
            connection.Abort();
        }
    }
}
