using System.Collections.Concurrent;
using Orleans.Runtime;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.UnitTests.Objects;

public sealed class FeedPushesTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Batches_pushed_while_a_send_is_under_way_go_together_in_the_next_message_in_order()
    {
        var pushes = new FeedPushes();
        var hub = new HeldHub();
        var (first, second) = (GrainId.Create("feed", "first"), GrainId.Create("feed", "second"));

        pushes.Push(hub, first, Batch(1));
        await hub.Entered.Task.WaitAsync(Deadline);

        // The first message is still being sent: everything pushed now waits for the next one.
        pushes.Push(hub, second, Batch(1));
        pushes.Push(hub, first, Batch(2));
        pushes.Push(hub, second, Batch(2));
        pushes.Push(hub, first, Batch(3));
        hub.Release.SetResult();

        var messages = await hub.WaitForMessagesAsync(2);
        Assert.Equal([(first, 1L)], Describe(messages[0]));
        Assert.Equal([(second, 1L), (first, 2L), (second, 2L), (first, 3L)], Describe(messages[1]));
    }

    [Fact]
    public async Task Each_hub_has_its_own_queue_and_a_held_hub_does_not_hold_up_another()
    {
        var pushes = new FeedPushes();
        var (held, free) = (new HeldHub(), new HeldHub());
        free.Release.SetResult();
        var feed = GrainId.Create("feed", "one");

        pushes.Push(held, feed, Batch(1));
        await held.Entered.Task.WaitAsync(Deadline);
        pushes.Push(free, feed, Batch(1));
        pushes.Push(held, feed, Batch(2));

        Assert.Equal([(feed, 1L)], Describe((await free.WaitForMessagesAsync(1))[0]));
        Assert.Equal(2, pushes.Hubs);
        held.Release.SetResult();
        Assert.Equal([(feed, 2L)], Describe((await held.WaitForMessagesAsync(2))[1]));
    }

    [Fact]
    public async Task A_queue_idle_for_a_whole_sweep_is_dropped_and_the_next_push_makes_a_new_one()
    {
        var pushes = new FeedPushes();
        var hub = new HeldHub();
        hub.Release.SetResult();
        var feed = GrainId.Create("feed", "one");
        pushes.Push(hub, feed, Batch(1));
        await hub.WaitForMessagesAsync(1);

        // Used since the last sweep: kept by the first. Dropped by the next one that finds its send finished.
        pushes.DropIdle();
        Assert.Equal(1, pushes.Hubs);
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            pushes.DropIdle();
            if (pushes.Hubs == 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the idle queue was never dropped");
            await Task.Delay(5);
        }

        pushes.Push(hub, feed, Batch(2));
        Assert.Equal([(feed, 2L)], Describe((await hub.WaitForMessagesAsync(2))[1]));
        Assert.Equal(1, pushes.Hubs);
    }

    [Fact]
    public async Task A_hub_whose_send_throws_gets_the_following_batches()
    {
        var pushes = new FeedPushes();
        var hub = new HeldHub { ThrowOnFirst = true };
        hub.Release.SetResult();
        var feed = GrainId.Create("feed", "one");

        pushes.Push(hub, feed, Batch(1));
        await hub.WaitForMessagesAsync(1);
        pushes.Push(hub, feed, Batch(2));
        Assert.Equal([(feed, 2L)], Describe((await hub.WaitForMessagesAsync(2))[1]));
    }

    private static ObjectEventBatch Batch(long sequence) =>
        new(1, [new ObjectEvent(sequence, ObjectEventKind.SetItem, "k", null, null, null, null, 0, null)]);

    private static (GrainId, long)[] Describe(IReadOnlyList<FeedPush> message) =>
        [.. message.Select(p => (p.Feed, p.Batch.Events[0].Sequence))];

    /// <summary>A gateway hub whose first send blocks until released (a send still under way), recording every message.</summary>
    private sealed class HeldHub : IFeedHubObserver
    {
        private readonly ConcurrentQueue<IReadOnlyList<FeedPush>> _messages = new();
        private int _calls;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool ThrowOnFirst { get; init; }

        public Task OnPushes(IReadOnlyList<FeedPush> pushes)
        {
            _messages.Enqueue([.. pushes]);
            if (Interlocked.Increment(ref _calls) == 1)
            {
                Entered.SetResult();
                Release.Task.Wait(Deadline);
                if (ThrowOnFirst)
                {
                    throw new InvalidOperationException("the connection to the gateway failed");
                }
            }

            return Task.CompletedTask;
        }

        public async Task<IReadOnlyList<FeedPush>[]> WaitForMessagesAsync(int count)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (_messages.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"expected {count} messages, got {_messages.Count}");
                await Task.Delay(5);
            }

            return [.. _messages];
        }
    }
}
