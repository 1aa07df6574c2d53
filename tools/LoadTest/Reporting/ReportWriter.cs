using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace OrleansVault.LoadTest.Reporting;

/// <summary>Prints results as a table and writes them as JSON and CSV.</summary>
public static class ReportWriter
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static readonly (string Header, Func<ScenarioResult, object?> Value)[] Columns =
    [
        ("scenario", r => r.Scenario),
        ("target", r => r.Target),
        ("connections", r => r.Connections),
        ("connects/s", r => r.ConnectsPerSecond),
        ("writes/s", r => r.WritesPerSecond),
        ("ack p50 ms", r => r.WriteAckP50Ms),
        ("ack p99 ms", r => r.WriteAckP99Ms),
        ("deliveries", r => r.Deliveries),
        ("deliveries/s", r => r.DeliveriesPerSecond),
        ("p50 ms", r => r.LatencyP50Ms),
        ("p90 ms", r => r.LatencyP90Ms),
        ("p99 ms", r => r.LatencyP99Ms),
        ("max ms", r => r.LatencyMaxMs),
        ("requests/s", r => r.RequestsPerSecond),
        ("req p99 ms", r => r.RequestP99Ms),
        ("KB/conn", r => r.MemoryPerConnectionKb),
        ("server cores", r => r.ServerCoresUsed),
        ("errors", r => r.ErrorCount),
    ];

    /// <summary>One column per result, one row per figure: readable in 80 columns and with many targets.</summary>
    public static void PrintTable(IReadOnlyList<ScenarioResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("measure");
        foreach (var result in results)
        {
            table.AddColumn(new TableColumn($"{Markup.Escape(result.Target)}\n{Markup.Escape(result.Scenario)}").RightAligned());
        }

        foreach (var (header, value) in Columns.Skip(2))
        {
            table.AddRow([header, .. results.Select(r => Markup.Escape(Format(value(r))))]);
        }

        AnsiConsole.Write(table);
        foreach (var result in results.Where(r => r.ErrorCount > 0))
        {
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(result.Target)} {Markup.Escape(result.Scenario)} errors:[/] {Markup.Escape(string.Join(", ", result.Errors.Select(e => $"{e.Key} x{e.Value}")))}");
        }
    }

    public static async Task WriteJsonAsync(string path, object report)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, Json));
    }

    public static async Task WriteCsvAsync(string path, IReadOnlyList<ScenarioResult> results)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', Columns.Select(c => c.Header)));
        foreach (var result in results)
        {
            csv.AppendLine(string.Join(',', Columns.Select(c => Quote(Format(c.Value(result))))));
        }

        await File.WriteAllTextAsync(path, csv.ToString());
    }

    public static string Format(object? value) => value switch
    {
        null => "-",
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    private static string Quote(string value) => value.Contains(',', StringComparison.Ordinal) ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
