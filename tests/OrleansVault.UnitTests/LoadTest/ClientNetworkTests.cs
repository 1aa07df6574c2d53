using System.Collections.Concurrent;
using OrleansVault.LoadTest.Options;
using OrleansVault.LoadTest.Targets;

namespace OrleansVault.UnitTests.LoadTest;

/// <summary>Requests against a cluster go to its gateways in turn, whichever threads send them.</summary>
public sealed class ClientNetworkTests
{
    [Fact]
    public async Task RequestsAreSpreadEvenlyOverTheGateways()
    {
        var options = LoadOptions.Parse(["run", "--url", "http://127.0.0.1:5001,http://127.0.0.1:5002,http://127.0.0.1:5003", "--project", "p", "--key", "k", "--secret", "s"]);
        using var network = new ClientNetwork(options);
        var counts = new ConcurrentDictionary<Uri, int>();

        // Many threads at once, as the load's writers are: the choice must not depend on which thread asks.
        await Parallel.ForAsync(0, 3_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (_, _) =>
        {
            counts.AddOrUpdate(network.NextBase(), 1, (_, n) => n + 1);
            return ValueTask.CompletedTask;
        });

        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, n => Assert.Equal(1_000, n));
    }
}
