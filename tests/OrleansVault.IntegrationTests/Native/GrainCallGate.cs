using System.Collections.Concurrent;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>
/// A grain call filter for races: holds one call of one shared-object method (the first after <paramref name="skip"/>
/// calls of it went through) until the test releases it, and tells when a call of any method has completed.
/// </summary>
public sealed class GrainCallGate(string heldMethod, int skip = 0) : IOutgoingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _completed = new(StringComparer.Ordinal);
    private int _calls;

    /// <summary>Completes when the held call arrived (and waits).</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Complete it to let the held call go on.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once a call of <paramref name="method"/> completed.</summary>
    public Task Completed(string method) => Slot(method).Task;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        var method = context.InterfaceMethod?.DeclaringType == typeof(OrleansVault.Objects.ISharedObjectGrain) ? context.InterfaceMethod.Name : null;
        if (method == heldMethod && Interlocked.Increment(ref _calls) == skip + 1)
        {
            Entered.TrySetResult();
            await Release.Task;
        }

        await context.Invoke();
        if (method is not null)
        {
            Slot(method).TrySetResult();
        }
    }

    private TaskCompletionSource Slot(string method) =>
        _completed.GetOrAdd(method, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
