using OrleansVault.Client;

namespace OrleansVault.IntegrationTests.Native;

/// <summary><see cref="SharedObject.Events"/>: every event once, or an error saying the enumeration fell behind.</summary>
public sealed class NativeEventStreamTests(SharedKestrelGateway shared) : IClassFixture<SharedKestrelGateway>
{
    [Fact]
    public async Task An_enumeration_that_falls_behind_its_buffer_ends_with_an_overflow_error_instead_of_skipping_events()
    {
        var gateway = shared.Gateway;
        var defaults = gateway.Options();
        await using var vault = await VaultClient.ConnectAsync(new VaultClientOptions
        {
            BaseUrl = defaults.BaseUrl,
            ProjectId = defaults.ProjectId,
            ApiKey = defaults.ApiKey,
            ApiSecret = defaults.ApiSecret,
            EventBufferSize = 2,
        });
        var id = "s" + Guid.NewGuid().ToString("N");
        var board = await vault.OpenAsync("stream", id);
        var log = new EventLog(board);
        using var timeout = new CancellationTokenSource(Wait.Deadline);
        await using var events = board.Events(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var first = events.MoveNextAsync();
        await gateway.WriteOverHttpAsync("stream", id, "k0", 0);
        Assert.True(await first);

        // Nobody reads while four more arrive: two fit, the third overflows.
        for (var i = 1; i <= 4; i++)
        {
            await gateway.WriteOverHttpAsync("stream", id, "k" + i, i);
        }

        await log.WaitForAsync(e => e.Key == "k4", "the last write");
        var read = new List<string?> { events.Current.Key };
        var overflow = await Assert.ThrowsAsync<VaultClientException>(async () =>
        {
            while (await events.MoveNextAsync())
            {
                read.Add(events.Current.Key);
            }
        });

        Assert.Equal(ClientErrorCodes.EventsOverflow, overflow.Code);
        Assert.Equal(["k0", "k1", "k2"], read);
    }
}
