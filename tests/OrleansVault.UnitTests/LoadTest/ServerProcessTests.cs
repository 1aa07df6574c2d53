using System.Diagnostics;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.UnitTests.LoadTest;

/// <summary>
/// The load tool reads a server's memory and CPU from its processes: one for a single node, every silo and gateway
/// for a cluster (<c>--server-pid</c> takes a list, and the report sums it).
/// </summary>
public sealed class ServerProcessTests
{
    private static readonly string[] Required = ["run", "--url", "http://127.0.0.1:5000", "--project", "p", "--key", "k", "--secret", "s"];

    [Fact]
    public void ServerPidTakesACommaSeparatedList()
    {
        Assert.Equal([41, 42, 43], LoadOptions.Parse([.. Required, "--server-pid", "41, 42,43"]).ServerPids);
        Assert.Equal([7], LoadOptions.Parse([.. Required, "--server-pid", "7"]).ServerPids);
        Assert.Empty(LoadOptions.Parse(Required).ServerPids);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("12,x")]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("99999999999")]
    public void AMalformedServerPidIsAUsageError(string value)
    {
        var error = Assert.Throws<UsageException>(() => LoadOptions.Parse([.. Required, "--server-pid", value]));
        Assert.StartsWith("--server-pid:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralProcessesAreSummed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc is Linux only; CI runs Linux
        }
        using var first = Sleeper();
        using var second = Sleeper();

        // Idle sleepers, once started: their resident memory and CPU time no longer move. A just-started process is still
        // loading (its memory grows), so the sum is read between two readings of each that agree.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var one = ProcessStats.TryRead([first.Id]);
            var other = ProcessStats.TryRead([second.Id]);
            var both = ProcessStats.TryRead([first.Id, second.Id]);
            var oneAgain = ProcessStats.TryRead([first.Id]);
            var otherAgain = ProcessStats.TryRead([second.Id]);
            Assert.NotNull(one);
            Assert.NotNull(other);
            Assert.NotNull(both);
            if (one.Value with { At = default } != oneAgain!.Value with { At = default } || other.Value with { At = default } != otherAgain!.Value with { At = default })
            {
                Assert.True(DateTime.UtcNow < deadline, "the sleepers' memory never settled");
                Thread.Sleep(20);
                continue;
            }

            Assert.True(one.Value.RssBytes > 0);
            Assert.Equal(one.Value.RssBytes + other.Value.RssBytes, both.Value.RssBytes);
            Assert.Equal(one.Value.CpuSeconds + other.Value.CpuSeconds, both.Value.CpuSeconds, 6);
            break;
        }
    }

    [Fact]
    public void AProcessThatCannotBeReadVoidsTheSum()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc is Linux only; CI runs Linux
        }
        using var sleeper = Sleeper();
        var gone = Process.Start(new ProcessStartInfo("true"))!;
        gone.WaitForExit();
        var goneId = gone.Id;
        gone.Dispose();

        Assert.NotNull(ProcessStats.TryRead([sleeper.Id]));
        Assert.Null(ProcessStats.TryRead([sleeper.Id, goneId]));
        Assert.Null(ProcessStats.TryRead([]));
    }

    [Fact]
    public void CoresUsedComesFromTheSummedCpuTime()
    {
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var before = new ProcessStats(1, 10.0, start);
        var after = new ProcessStats(1, 13.0, start.AddSeconds(2));
        Assert.Equal(1.5, ProcessStats.CoresUsed(before, after)!.Value, 6);
        Assert.Null(ProcessStats.CoresUsed(null, after));
    }

    private static SleepingProcess Sleeper() => new(Process.Start(new ProcessStartInfo("sleep", "300"))!);

    private sealed class SleepingProcess(Process process) : IDisposable
    {
        public int Id => process.Id;

        public void Dispose()
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }
}
