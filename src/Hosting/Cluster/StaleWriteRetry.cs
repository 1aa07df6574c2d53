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
    // Every other call (feed pushes, channels, projects) passes straight through, without a state machine of its own.
    public Task Invoke(IOutgoingGrainCallContext context) =>
        context.Grain is ISharedObjectGrain ? InvokeOnceMoreIfStaleAsync(context) : context.Invoke();

    private static async Task InvokeOnceMoreIfStaleAsync(IOutgoingGrainCallContext context)
    {
        // A call to an activation in this process (a gateway hosting its silo) hands the request itself to the callee,
        // which clears its arguments once it ran: keep them, to make the same call again.
        var request = context.Request;
        var arguments = new object?[request.GetArgumentCount()];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = request.GetArgument(i);
        }

        try
        {
            await context.Invoke();
        }
        catch (InconsistentStateException)
        {
            for (var i = 0; i < arguments.Length; i++)
            {
                request.SetArgument(i, arguments[i]!);
            }

            await context.Invoke();
        }
    }
}
