using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using OrleansVault.Gateway.WebSockets;

namespace OrleansVault.UnitTests.Transport;

/// <summary>
/// The send side of every client socket: frames sent at once on the caller's thread and frames sent by the writer
/// task must come out in the order they were queued, one send at a time, with the queue's bound, close and
/// cancellation kept.
/// </summary>
public sealed class OutgoingFramesTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Frames_sent_at_once_and_by_the_writer_keep_their_order_and_never_overlap()
    {
        var sent = new ConcurrentQueue<long>();
        using var run = new Run(new ScriptedSocket { CompleteSometimesLater = true }, 100_000, sent.Enqueue);
        var (socket, frames, writer, _) = (run.Socket, run.Frames, run.Writer, run.Stop);

        // Four producers queue under one lock, as a socket's owners do; small and large fan-outs mixed.
        var gate = new Lock();
        var next = 0L;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(() =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                lock (gate)
                {
                    var n = ++next;
                    frames.Enqueue(Encoding.UTF8.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture)), n, sendNow: n % 7 != 0);
                }
            }
        })));

        await socket.WaitForAsync(8_000);
        Assert.Equal(Enumerable.Range(1, 8_000).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), socket.Texts);
        Assert.Equal(Enumerable.Range(1, 8_000).Select(n => (long)n), sent);
        Assert.Equal(1, socket.MaxConcurrentSends);
        Assert.True(socket.SentOnCallerThread > 0, "some frames should go out at once");

        frames.Complete();
        await writer.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_frame_that_may_go_at_once_waits_behind_one_already_queued()
    {
        using var run = new Run(new ScriptedSocket(), 10);
        var (socket, frames, writer, _) = (run.Socket, run.Frames, run.Writer, run.Stop);
        for (var i = 0; i < 50; i++)
        {
            // The writer is idle: the first frame is queued for it, the second must not overtake it.
            frames.Enqueue(Encoding.UTF8.GetBytes($"{i}a"), sendNow: false);
            frames.Enqueue(Encoding.UTF8.GetBytes($"{i}b"));
            await socket.WaitForAsync(2 * (i + 1));
        }

        Assert.Equal(Enumerable.Range(0, 50).SelectMany(i => new[] { $"{i}a", $"{i}b" }), socket.Texts);
        frames.Complete();
        await writer.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Frames_queued_before_the_writer_runs_wait_for_it()
    {
        var socket = new ScriptedSocket();
        var frames = new OutgoingFrames(socket, maxQueuedFrames: 10);
        frames.Enqueue("a"u8.ToArray());
        frames.Enqueue("b"u8.ToArray());
        Assert.Empty(socket.Texts);

        using var stop = new CancellationTokenSource();
        var writer = frames.RunAsync(stop.Token);
        await socket.WaitForAsync(2);
        frames.Enqueue("c"u8.ToArray());
        await socket.WaitForAsync(3);
        Assert.Equal(["a", "b", "c"], socket.Texts);
        frames.Complete();
        await writer.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_client_that_lets_frames_pile_up_past_the_bound_is_dropped()
    {
        using var run = new Run(ScriptedSocket.Holding(), 3);
        var (socket, frames, writer, _) = (run.Socket, run.Frames, run.Writer, run.Stop);

        // The first frame goes out at once and hangs in the socket; three wait; the fifth finds the queue full.
        for (var i = 0; i < 4; i++)
        {
            frames.Enqueue("x"u8.ToArray());
            Assert.False(frames.TooSlow);
        }

        frames.Enqueue("x"u8.ToArray());
        Assert.True(frames.TooSlow);
        Assert.True(socket.Aborted);
        await Assert.ThrowsAnyAsync<Exception>(() => writer.WaitAsync(Deadline));
    }

    [Fact]
    public async Task A_close_goes_after_everything_queued_and_nothing_goes_after_it()
    {
        using var run = new Run(ScriptedSocket.Holding(), 10);
        var (socket, frames, writer, _) = (run.Socket, run.Frames, run.Writer, run.Stop);

        frames.Enqueue("1"u8.ToArray());
        frames.Enqueue("2"u8.ToArray());
        frames.Close(WebSocketCloseStatus.EndpointUnavailable, "bye");
        frames.Enqueue("3"u8.ToArray());
        socket.Hold!.SetResult();

        await writer.WaitAsync(Deadline);
        Assert.Equal(["1", "2"], socket.Texts);
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "bye"), socket.ClosedWith);

        frames.Enqueue("4"u8.ToArray());
        Assert.Equal(["1", "2"], socket.Texts);
        Assert.False(frames.TooSlow);
    }

    [Fact]
    public async Task An_urgent_frame_overtakes_the_frames_waiting()
    {
        using var run = new Run(ScriptedSocket.Holding(), 10);
        var (socket, frames, writer, _) = (run.Socket, run.Frames, run.Writer, run.Stop);

        frames.Enqueue("1"u8.ToArray());
        frames.Enqueue("2"u8.ToArray());
        frames.Enqueue("3"u8.ToArray());
        frames.EnqueueUrgent("pong"u8.ToArray());
        socket.Hold!.SetResult();

        await socket.WaitForAsync(4);
        Assert.Equal(["1", "pong", "2", "3"], socket.Texts);
        frames.Complete();
        await writer.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_send_stuck_on_a_client_that_does_not_read_ends_when_the_writer_is_cancelled()
    {
        using var run = new Run(ScriptedSocket.Holding(), 10);
        var (socket, frames, writer, stop) = (run.Socket, run.Frames, run.Writer, run.Stop);
        frames.Enqueue("1"u8.ToArray(), sendNow: false);
        frames.Enqueue("2"u8.ToArray(), sendNow: false);
        await socket.WaitForSendsStartedAsync(1);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => writer.WaitAsync(Deadline));
        Assert.True(socket.Aborted);
    }

    [Fact]
    public async Task A_send_that_fails_on_the_callers_thread_aborts_the_socket_and_does_not_throw_to_the_caller()
    {
        using var run = new Run(new ScriptedSocket { FailSends = true }, 10);
        var (socket, frames, writer, _) = (run.Socket, run.Frames, run.Writer, run.Stop);
        await socket.WaitForSendsStartedAsync(0);

        frames.Enqueue("1"u8.ToArray());
        Assert.True(socket.Aborted);
        await writer.WaitAsync(Deadline);
    }

    /// <summary>A socket, its frames and their writer, running until the test ends.</summary>
    private sealed class Run : IDisposable
    {
        public Run(ScriptedSocket socket, int maxQueuedFrames, Action<long>? sent = null)
        {
            Socket = socket;
            Frames = new OutgoingFrames(socket, maxQueuedFrames, sent);
            Writer = Frames.RunAsync(Stop.Token);
        }

        public ScriptedSocket Socket { get; }

        public OutgoingFrames Frames { get; }

        public CancellationTokenSource Stop { get; } = new();

        public Task Writer { get; }

        public void Dispose() => Stop.Dispose();
    }

    /// <summary>A socket whose sends complete at once, later, or fail, as a test needs; it records what went out.</summary>
    private sealed class ScriptedSocket : WebSocket
    {
        private readonly ConcurrentQueue<string> _texts = new();
        private int _sending;
        private int _started;

        /// <summary>When set, every send waits for it (a client that does not read).</summary>
        public TaskCompletionSource? Hold { get; init; }

        /// <summary>A socket whose sends all wait for <see cref="Hold"/>.</summary>
        public static ScriptedSocket Holding() => new() { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };

        public bool CompleteSometimesLater { get; init; }

        public bool FailSends { get; init; }

        public bool Aborted { get; private set; }

        public int MaxConcurrentSends { get; private set; }

        public int SentOnCallerThread;

        public (WebSocketCloseStatus, string)? ClosedWith { get; private set; }

        public IReadOnlyList<string> Texts => [.. _texts];

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => Aborted ? WebSocketState.Aborted : WebSocketState.Open;

        public override string? SubProtocol => null;

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            Assert.False(cancellationToken.CanBeCanceled, "sends must not take a cancellable token (the socket's slow path)");
            if (Aborted || FailSends)
            {
                throw new WebSocketException(WebSocketError.InvalidState);
            }

            Interlocked.Increment(ref _started);
            var now = Interlocked.Increment(ref _sending);
            MaxConcurrentSends = Math.Max(MaxConcurrentSends, now);
            var text = Encoding.UTF8.GetString(buffer.Span);
            if (Hold is null && (!CompleteSometimesLater || text.GetHashCode(StringComparison.Ordinal) % 3 != 0))
            {
                Interlocked.Increment(ref SentOnCallerThread);
                Record(text);
                return ValueTask.CompletedTask;
            }

            return new ValueTask(FinishLaterAsync(text));
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            SendAsync(buffer.AsMemory(), messageType, endOfMessage, CancellationToken.None).AsTask();

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            ClosedWith = (closeStatus, statusDescription ?? string.Empty);
            return Task.CompletedTask;
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override void Abort()
        {
            Aborted = true;
            Hold?.TrySetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely));
        }

        public override void Dispose()
        {
        }

        public async Task WaitForAsync(int count)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (_texts.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {_texts.Count} of {count} frames went out");
                await Task.Delay(5);
            }
        }

        public async Task WaitForSendsStartedAsync(int count)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (Volatile.Read(ref _started) < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {_started} of {count} sends started");
                await Task.Delay(5);
            }

            // The writer is running once it takes frames; give it its first turn.
            await Task.Yield();
        }

        private async Task FinishLaterAsync(string text)
        {
            if (Hold is { } hold)
            {
                await hold.Task;
            }
            else
            {
                await Task.Yield();
            }

            Record(text);
        }

        private void Record(string text)
        {
            _texts.Enqueue(text);
            Interlocked.Decrement(ref _sending);
        }
    }
}
