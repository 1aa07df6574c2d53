using Microsoft.Extensions.Options;
using OrleansVault.Channels;

namespace OrleansVault.Gateway.Pusher;

/// <summary>At start-up: stores the Pusher app declared in <c>Vault:Bootstrap:Pusher</c> in the cluster's app registry.</summary>
public sealed partial class PusherAppBootstrapper(
    IGrainFactory grains,
    PusherAppDirectory directory,
    IOptions<PusherAppOptions> options,
    ILogger<PusherAppBootstrapper> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.IsDeclared)
        {
            LogNoApp(logger);
            return;
        }

        var app = options.Value.ToApp();
        await grains.GetGrain<IPusherAppsGrain>(IPusherAppsGrain.Key).Upsert(app);
        directory.Update(app);
        LogAppReady(logger, app.AppId, app.Key, app.ClientEvents, app.AuthorizedConnections, app.Webhooks.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3070, Level = LogLevel.Information, Message = "Pusher app {AppId} (key {AppKey}) ready: client events {ClientEvents}, authorized connections {AuthorizedConnections}, {WebhookCount} webhook targets")]
    private static partial void LogAppReady(ILogger logger, string appId, string appKey, bool clientEvents, bool authorizedConnections, int webhookCount);

    [LoggerMessage(EventId = 3071, Level = LogLevel.Information, Message = "No Pusher app declared (Vault:Bootstrap:Pusher); the Pusher door refuses every key")]
    private static partial void LogNoApp(ILogger logger);
}
