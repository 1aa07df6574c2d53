using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using OrleansVault.Client;
using OrleansVault.Protocol;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>Every hub operation through the real gateway and the real SignalR client, in both protocols.</summary>
public sealed class NativeHubTests(SharedKestrelGateway shared) : IClassFixture<SharedKestrelGateway>
{
    private KestrelGateway Gateway => shared.Gateway;

    private static string NewId() => "n" + Guid.NewGuid().ToString("N");

    public sealed record Card(string Title, int Points);

    [Theory]
    [InlineData(VaultProtocol.Json)]
    [InlineData(VaultProtocol.MessagePack)]
    public async Task Items_can_be_written_read_listed_and_removed(VaultProtocol protocol)
    {
        await using var vault = await Gateway.ConnectAsync(protocol);
        var board = await vault.OpenAsync("boards", NewId());

        var written = await board.SetAsync("card:1", new Card("Write docs", 3));
        Assert.NotNull(written);
        await board.SetAsync("card:2", new Card("Ship it", 5), new SetOptions { Ttl = TimeSpan.FromMinutes(5) });
        await board.SetManyAsync(new Dictionary<string, Card> { ["card:3"] = new("Test", 1), ["note"] = new("n", 0) });

        var one = await board.GetAsync<Card>("card:1");
        Assert.Equal(new Card("Write docs", 3), one!.Value);
        Assert.Equal(written!.UpdatedAt, one.UpdatedAt);
        Assert.True(one.ExpiresAt > DateTimeOffset.UtcNow);
        Assert.Null(await board.GetAsync<Card>("missing"));

        var many = await board.GetManyAsync<Card>(["card:1", "card:3", "missing"]);
        Assert.Equal(["card:1", "card:3"], many.Keys.Order());
        var cards = await board.GetAllAsync<Card>("card:");
        Assert.Equal(3, cards.Count);
        Assert.Equal(["card:1", "card:2", "card:3", "note"], (await board.GetKeysAsync()).Order());

        await board.RemoveAsync("card:1");
        Assert.Null(await board.GetAsync<Card>("card:1"));
        await board.RemoveManyAsync(["card:2", "card:3"]);
        Assert.Equal(["note"], await board.GetKeysAsync());
        await board.ClearAsync();
        Assert.Empty(await board.GetKeysAsync());
    }

    [Theory]
    [InlineData(VaultProtocol.Json)]
    [InlineData(VaultProtocol.MessagePack)]
    public async Task Conditional_writes_and_atomic_operations_apply_inside_the_object(VaultProtocol protocol)
    {
        await using var vault = await Gateway.ConnectAsync(protocol);
        var counter = await vault.OpenAsync("counters", NewId());

        Assert.NotNull(await counter.SetAsync("owner", "alice", new SetOptions { IfAbsent = true }));
        Assert.Null(await counter.SetAsync("owner", "bob", new SetOptions { IfAbsent = true }));
        var current = await counter.GetAsync<string>("owner");
        Assert.Equal("alice", current!.Value);
        var stale = await Assert.ThrowsAsync<VaultClientException>(() =>
            counter.SetAsync("owner", "carol", new SetOptions { IfUpdatedAt = current.UpdatedAt.ToUnixTimeMilliseconds() - 1 }));
        Assert.Equal("conflictError.updatedAt.mismatch", stale.Code);
        await counter.SetAsync("owner", "dave", new SetOptions { IfUpdatedAt = current.UpdatedAt.ToUnixTimeMilliseconds() });
        Assert.Equal("dave", await counter.GetValueAsync<string>("owner"));

        Assert.Equal(5, (await counter.IncrementAsync("hits", 5)).Value);
        Assert.Equal(3, (await counter.DecrementAsync("hits", 2)).Value);
        await counter.PushAsync("list", 1);
        await counter.PushAsync("list", 2);
        var spliced = await counter.SpliceAsync("list", 0, 1, new[] { 7, 8 });
        Assert.Equal("[7,8,2]", spliced.Value.GetRawText());
        await counter.MergeAsync("profile", new { name = "x" });
        var merged = await counter.MergeAsync("profile", new { age = 3 });
        Assert.Equal(3, merged.Value.GetProperty("age").GetInt32());
        var nested = await counter.SetInAsync("profile", "address.city", "Berlin");
        Assert.Equal("Berlin", nested.Value.GetProperty("address").GetProperty("city").GetString());

        var wrongType = await Assert.ThrowsAsync<VaultClientException>(() => counter.IncrementAsync("owner"));
        Assert.StartsWith("validationError.", wrongType.Code, StringComparison.Ordinal);
        Assert.Equal("dave", await counter.GetValueAsync<string>("owner"));
    }

    [Theory]
    [InlineData(VaultProtocol.Json)]
    [InlineData(VaultProtocol.MessagePack)]
    public async Task Subscribers_get_numbered_events_messages_and_presence(VaultProtocol protocol)
    {
        var id = NewId();
        await using var alice = await Gateway.ConnectAsync(protocol);
        await using var bob = await Gateway.ConnectAsync(protocol);
        var aliceRoom = await alice.OpenAsync("rooms", id);
        var bobRoom = await bob.OpenAsync("rooms", id);
        var bobEvents = new EventLog(bobRoom);
        var aliceEvents = new EventLog(aliceRoom);

        await aliceRoom.JoinAsync(new { name = "Alice" });
        var joined = await bobEvents.WaitForAsync(e => e.Kind == EventKind.PresenceJoin, "alice's join");
        Assert.Equal(aliceRoom.ConnectionId, joined.ConnectionId);
        Assert.Equal("Alice", joined.ValueAs<JsonElement>().GetProperty("name").GetString());
        var members = await bobRoom.GetMembersAsync();
        Assert.Equal(aliceRoom.ConnectionId, Assert.Single(members).ConnectionId);

        await aliceRoom.SetAsync("topic", "hello");
        var set = await bobEvents.WaitForAsync(e => e.Kind == EventKind.SetItem, "the set");
        Assert.Equal("topic", set.Key);
        Assert.Equal("hello", set.ValueAs<string>());
        await aliceRoom.SendMessageAsync(new { text = "hi bob" });
        var message = await bobEvents.WaitForAsync(e => e.Kind == EventKind.Message, "the message");
        Assert.Equal("hi bob", message.ValueAs<JsonElement>().GetProperty("text").GetString());
        await aliceRoom.RemoveAsync("topic");
        await bobEvents.WaitForAsync(e => e.Kind == EventKind.RemoveItem, "the remove");
        await aliceRoom.LeaveAsync();
        await bobEvents.WaitForAsync(e => e.Kind == EventKind.PresenceLeave, "alice's leave");

        // Numbered without gaps or repeats; the sender does not hear its own message.
        var sequences = bobEvents.Snapshot().Select(e => e.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
        Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Count).Select(i => (long)i), sequences);
        await aliceEvents.WaitForAsync(e => e.Kind == EventKind.PresenceLeave, "alice sees her own leave");
        Assert.DoesNotContain(aliceEvents.Snapshot(), e => e.Kind == EventKind.Message);
        Assert.Equal(bobRoom.LastSequence, aliceRoom.LastSequence);
    }

    [Fact]
    public async Task Events_are_also_an_async_stream()
    {
        await using var vault = await Gateway.ConnectAsync();
        var feed = await vault.OpenAsync("feeds", NewId());
        using var cancel = new CancellationTokenSource(Wait.Deadline);
        var received = new List<VaultEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in feed.Events(cancel.Token))
            {
                received.Add(e);
                if (received.Count == 3)
                {
                    return;
                }
            }
        });

        // The enumerator registers when it starts; write until it has seen three events.
        await Wait.UntilAsync(async () =>
        {
            await feed.SetAsync("k", received.Count);
            return reading.IsCompleted;
        }, "three streamed events");
        Assert.All(received, e => Assert.Equal(EventKind.SetItem, e.Kind));
    }

    [Fact]
    public async Task Bad_input_gets_a_stable_error_code_and_the_connection_stays_usable()
    {
        await using var vault = await Gateway.ConnectAsync();
        var shared = await vault.OpenAsync("errors", NewId());

        var badKey = await Assert.ThrowsAsync<VaultClientException>(() => shared.SetAsync(new string('k', 2000), 1));
        Assert.Equal("validationError.key.invalid", badKey.Code);
        var badTtl = await Assert.ThrowsAsync<VaultClientException>(() => shared.SetAsync("k", 1, new SetOptions { Ttl = TimeSpan.FromMilliseconds(-5) }));
        Assert.Equal("validationError.ttl.invalid", badTtl.Code);
        var badClass = await Assert.ThrowsAsync<VaultClientException>(() => vault.OpenAsync("no/slashes", "x"));
        Assert.Equal("validationError.class.invalid", badClass.Code);

        // Raw hub calls a client library would never make.
        var notOpen = await Assert.ThrowsAsync<VaultClientException>(() => vault.InvokeAsync<ItemData?>(NativeProtocol.Methods.Get, ["other/handle", "k"], CancellationToken.None));
        Assert.Equal("validationError.object.notOpen", notOpen.Code);
        var handle = "errors/" + shared.Id;
        var badJson = await Assert.ThrowsAsync<VaultClientException>(() => vault.InvokeAsync<ItemData?>(NativeProtocol.Methods.Set, [handle, new SetRequest("k", "{not json")], CancellationToken.None));
        Assert.Equal("validationError.body.malformed", badJson.Code);
        var badOp = await Assert.ThrowsAsync<VaultClientException>(() => vault.InvokeAsync<ItemData>(NativeProtocol.Methods.Apply, [handle, new ApplyRequest("k", "explode", "{}")], CancellationToken.None));
        Assert.Equal("validationError.operation.unknown", badOp.Code);
        var twice = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(async () =>
        {
            await foreach (var _ in vault.Hub.StreamAsync<ObjectEventData>(NativeProtocol.Methods.Subscribe, handle, null, null))
            {
            }
        });
        Assert.Equal("conflictError.subscription.exists", NativeProtocol.ParseError(twice.Message, "none").Code);

        await shared.SetAsync("k", 2);
        Assert.Equal(2, await shared.GetValueAsync<int>("k"));
    }
}
