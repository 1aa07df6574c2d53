using System.Globalization;

namespace OrleansVault.LoadTest.Metrics;

/// <summary>
/// The resident memory and CPU time of a server's processes (one for a single node, every silo and gateway for a
/// cluster), summed, read from /proc (Linux).
/// </summary>
public readonly record struct ProcessStats(long RssBytes, double CpuSeconds, DateTime At)
{
    private const double ClockTicksPerSecond = 100;

    /// <summary>The processes' summed figures; null without processes, off Linux, or when any of them cannot be read
    /// (a sum missing a process would understate the server).</summary>
    public static ProcessStats? TryRead(IReadOnlyList<int> pids)
    {
        if (pids.Count == 0)
        {
            return null;
        }

        long rss = 0;
        double cpu = 0;
        foreach (var pid in pids)
        {
            if (TryReadOne(pid) is not { } one)
            {
                return null;
            }

            rss += one.RssBytes;
            cpu += one.CpuSeconds;
        }

        return new ProcessStats(rss, cpu, DateTime.UtcNow);
    }

    private static ProcessStats? TryReadOne(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            var rssLine = status.FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var rssKb = rssLine is null ? 0 : long.Parse(rssLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

            // Fields after the command name (which may contain spaces) start at ')'; utime and stime are the 14th and 15th fields.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new ProcessStats(rssKb * 1024, ticks / ClockTicksPerSecond, DateTime.UtcNow);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Cores used between two readings.</summary>
    public static double? CoresUsed(ProcessStats? before, ProcessStats? after) =>
        before is { } b && after is { } a && a.At > b.At ? (a.CpuSeconds - b.CpuSeconds) / (a.At - b.At).TotalSeconds : null;
}
