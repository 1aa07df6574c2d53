using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansVault.Hosting;

/// <summary>
/// Logs the active silos this silo sees whenever that set changes: objects are placed on their owner among these
/// (see <c>OwnerSilo</c>), so operators and the cluster benchmark wait until every silo sees the whole cluster.
/// </summary>
public sealed partial class ClusterViewLog(IClusterMembershipService membership, ILogger<ClusterViewLog> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IReadOnlyList<SiloAddress> seen = [];
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).Order().ToList();
                if (!active.SequenceEqual(seen))
                {
                    seen = active;
                    LogView(logger, active.Count, string.Join(", ", active));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Cluster view: {Count} active silos ({Silos})")]
    private static partial void LogView(ILogger logger, int count, string silos);
}
