using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansVault.Grains.Objects;

namespace OrleansVault.Hosting;

/// <summary>
/// Drops the push queues of gateway hubs nothing was pushed to for a whole feed lease (<c>Vault:Objects:FeedLease</c>):
/// by then every feed of a gateway that stopped has lapsed. A queue dropped too early costs nothing: the next push
/// makes a new one.
/// </summary>
public sealed class FeedPushSweep(FeedPushes pushes, IOptions<SharedObjectOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FeedLease, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                pushes.DropIdle();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
