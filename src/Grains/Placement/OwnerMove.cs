using Microsoft.Extensions.Logging;
using Orleans.Core.Internal;

namespace OrleansVault.Grains.Placement;

/// <summary>
/// Moving an <see cref="OwnerSiloPlacement"/> grain that stays active while the silos change (a silo joined, or it was
/// placed while the silos still disagreed about who is in) to its owner, so its calls stop being forwarded. Grains with
/// subscribers never idle long enough to be collected, so their housekeeping asks; each carries its live state across
/// (<see cref="IGrainMigrationParticipant"/>).
/// </summary>
internal static partial class OwnerMove
{
    /// <summary>Asks to move once idle when another active silo owns the grain (a no-op on its owner, and with one silo).</summary>
    public static void RequestIfMisplaced(IGrainBase grain, IClusterMembershipService? membership, ILogger logger)
    {
        if (membership is null)
        {
            return;
        }

        var active = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .ToList();
        var context = grain.GrainContext;
        if (active.Count < 2 || OwnerSilo.Of(context.GrainId, active) is not { } owner || owner.Equals(context.Address.SiloAddress))
        {
            return;
        }

        // Through the activation's management extension, not the grain's MigrateOnIdle: it places the grain first and
        // moves it only if placement names another silo. The grain's own MigrateOnIdle deactivates it in any case, and
        // while the new silo is not yet known to placement here that would drop the live part instead of carrying it.
        // Not awaited: the request is a call to this very activation, which a grain that is not reentrant runs only
        // after the housekeeping that asks has finished.
        LogMovingToOwner(logger, owner);
        _ = context.GrainReference.AsReference<IGrainManagementExtension>().MigrateOnIdle().AsTask().ContinueWith(
            static (asked, state) => LogMoveFailed((ILogger)state!, asked.Exception!),
            logger,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Active away from its owner silo {Owner}: asking to move there once idle")]
    private static partial void LogMovingToOwner(ILogger logger, SiloAddress owner);

    // It stays here, its calls forwarded through the owner; the next housekeeping round asks again.
    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Asking to move to the owner silo failed")]
    private static partial void LogMoveFailed(ILogger logger, Exception exception);
}
