using System.Globalization;

namespace OrleansVault.LoadTest.Metrics;

/// <summary>A server process's resident memory and CPU time, read from /proc (Linux).</summary>
public readonly record struct ProcessStats(long RssBytes, double CpuSeconds, DateTime At)
{
    private const double ClockTicksPerSecond = 100;

    public static ProcessStats? TryRead(int? pid)
    {
        if (pid is null || !OperatingSystem.IsLinux())
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
