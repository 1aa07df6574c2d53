using Orleans.Storage;
using OrleansVault.Objects;

namespace OrleansVault.Hosting.Cluster;

/// <summary>
/// A gateway's calls to shared objects are made once more when the object's write met a newer stored state. That
/// happens while a silo hands an object over (it leaves, or the object moves): the object can be activated on the new
/// silo before its old activation stored its last state, and that activation's first write then fails, stores nothing
/// and pushes nothing (events go out only once stored), and the activation deactivates. The second attempt reaches a
/// fresh activation that reads the newest state, so the caller sees one success instead of a retryable 503.
/// Other failures, and a second stale write, reach the caller.
/// </summary>
public sealed class StaleWriteRetry : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (InconsistentStateException) when (context.Grain is ISharedObjectGrain)
        {
            await context.Invoke();
        }
    }
}
