using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Limits;
using OrleansVault.Gateway.Options;

namespace OrleansVault.UnitTests.Limits;

public sealed class LimitTests
{
    /// <summary>A clock whose timestamp moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void A_bucket_allows_its_burst_then_its_rate_and_never_saves_more_than_the_burst()
    {
        var clock = new ManualClock();
        var bucket = new RateBucket(rate: 10, burst: 5, clock);
        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => bucket.TryTake()));

        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, Enumerable.Range(0, 20).Count(_ => bucket.TryTake()));

        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => bucket.TryTake()));
    }

    [Fact]
    public void Connections_are_limited_per_key_and_per_address_and_freed_on_release()
    {
        var limiter = new ConnectionLimiter(Microsoft.Extensions.Options.Options.Create(new LimitOptions { MaxConnectionsPerKey = 2, MaxConnectionsPerAddress = 3 }));
        Assert.Null(limiter.TryAcquire("p", "k1", "10.0.0.1"));
        Assert.Null(limiter.TryAcquire("p", "k1", "10.0.0.2"));
        Assert.Contains("API key", limiter.TryAcquire("p", "k1", "10.0.0.3"), StringComparison.Ordinal);

        // The same key id in another project is another key.
        Assert.Null(limiter.TryAcquire("q", "k1", "10.0.0.1"));
        Assert.Null(limiter.TryAcquire("q", "k2", "10.0.0.1"));
        Assert.Contains("address", limiter.TryAcquire("r", "k9", "10.0.0.1"), StringComparison.Ordinal);

        // A refused attempt counts nothing; a release makes room.
        limiter.Release("p", "k1", "10.0.0.1");
        Assert.Null(limiter.TryAcquire("p", "k1", "10.0.0.3"));
        Assert.Null(limiter.TryAcquire("r", "k9", "10.0.0.1"));
    }
}
