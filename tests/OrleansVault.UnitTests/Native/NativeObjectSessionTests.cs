using System.Reflection;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Native;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Objects;
using OrleansVault.Protocol;

namespace OrleansVault.UnitTests.Native;

/// <summary>A native session's replay at subscribe, against an object that started another epoch meanwhile.</summary>
public sealed class NativeObjectSessionTests
{
    [Fact]
    public async Task History_of_another_epoch_is_never_replayed_under_the_epoch_the_client_asked_about()
    {
        // The session last saw epoch 1 up to #5; the object has since started epoch 2, whose events are #4 and #5 again.
        var grain = ObjectInEpoch.Create(2, [RemoveEvent(4), RemoveEvent(5)]);
        var connection = new NativeConnection("hub-1", new NativeCredentials(new Caller("p", "k", null, null), "Bearer t", null, null), null, 100, (_, _, _) => { });
        var session = new NativeObjectSession(connection, Names.Address("p", "c", "o"), "c1", new ObjectReferences(FactoryOf.Create(grain)));
        session.Start(epoch: 1, sequence: 5);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var first = await session.StreamAsync(afterSequence: 3, epoch: 1, timeout.Token).FirstAsync(timeout.Token);

        // Either a refetch or events labelled with their own epoch; never epoch 2's #4 passed off as epoch 1's.
        Assert.True(first.Kind == EventKind.Refetch || first.Epoch == 2, $"replayed {first.Kind} #{first.Sequence} as epoch {first.Epoch}");
    }

    private static ObjectEvent RemoveEvent(long sequence) => new(sequence, ObjectEventKind.RemoveItem, "k", null, null, null, null, 0, null);

    /// <summary>A stand-in grain factory whose every reference is the one grain given.</summary>
    public class FactoryOf : DispatchProxy
    {
        private object? _grain;

        public static IGrainFactory Create(object grain)
        {
            var proxy = Create<IGrainFactory, FactoryOf>();
            ((FactoryOf)(object)proxy)._grain = grain;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => _grain;
    }

    /// <summary>A stand-in object in <c>Epoch</c> with a history: only the history calls are answered.</summary>
    public class ObjectInEpoch : DispatchProxy
    {
        private long _epoch;
        private IReadOnlyList<ObjectEvent> _history = [];

        public static ISharedObjectGrain Create(long epoch, IReadOnlyList<ObjectEvent> history)
        {
            var proxy = Create<ISharedObjectGrain, ObjectInEpoch>();
            var state = (ObjectInEpoch)(object)proxy;
            state._epoch = epoch;
            state._history = history;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(ISharedObjectGrain.GetEventsAfter) => Task.FromResult<IReadOnlyList<ObjectEvent>?>(_history),
            nameof(ISharedObjectGrain.GetEventsInEpochAfter) => Task.FromResult((long)args![0]! == _epoch ? _history : null),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
