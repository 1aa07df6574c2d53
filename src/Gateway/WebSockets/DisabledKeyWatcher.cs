using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Options;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.WebSockets;

/// <summary>
/// Closes this gateway's open sockets whose API key was disabled or removed, with 4003 "key disabled" (WIRE 1.6; native hub
/// connections with <c>authorizationError.key.disabled</c> and no reconnect), checking
/// every <c>Vault:Auth:ProjectCacheTtl</c> against the project configuration this gateway already caches for that long.
/// </summary>
public sealed class DisabledKeyWatcher(
    VaultriceSocketEndpoint sockets,
    Native.NativeLifetimeManager hubConnections,
    ProjectDirectory projects,
    IOptions<AuthOptions> options,
    TimeProvider time,
    ILogger<DisabledKeyWatcher> logger) : BackgroundService
{
    public const WebSocketCloseStatus KeyDisabledStatus = (WebSocketCloseStatus)4003;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ProjectCacheTtl, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CloseDisabledAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One pass over the open sockets.</summary>
    public async Task CloseDisabledAsync()
    {
        await CloseDisabledHubConnectionsAsync();
        foreach (var group in sockets.OpenSockets.GroupBy(s => ObjectAddress.Parse(s.ObjectKey).ProjectId, StringComparer.Ordinal))
        {
            try
            {
                var project = await projects.GetAsync(group.Key);
                foreach (var socket in group)
                {
                    if (project?.FindKey(socket.Owner) is not { Enabled: true })
                    {
                        GatewayLog.SocketKeyDisabled(logger, socket.ConnectionId);
                        socket.Close(KeyDisabledStatus, "key disabled");
                    }
                }
            }
            catch (Exception error) when (error is TimeoutException or OrleansException)
            {
                // The cluster did not answer; the next pass tries again.
                GatewayLog.ClusterUnavailable(logger, error.GetType().Name);
            }
        }
    }

    private async Task CloseDisabledHubConnectionsAsync()
    {
        foreach (var group in hubConnections.OpenConnections.GroupBy(c => c.Caller.ProjectId, StringComparer.Ordinal))
        {
            try
            {
                var project = await projects.GetAsync(group.Key);
                foreach (var connection in group.Where(c => project?.FindKey(c.Caller.KeyId) is not { Enabled: true }))
                {
                    GatewayLog.SocketKeyDisabled(logger, connection.HubConnectionId);
                    connection.Disconnect(Errors.ErrorCodes.KeyDisabled, "This connection's API key was disabled.");
                }
            }
            catch (Exception error) when (error is TimeoutException or OrleansException)
            {
                GatewayLog.ClusterUnavailable(logger, error.GetType().Name);
            }
        }
    }
}
