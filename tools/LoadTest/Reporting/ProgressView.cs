using System.Globalization;
using OrleansVault.LoadTest.Metrics;
using Spectre.Console;

namespace OrleansVault.LoadTest.Reporting;

/// <summary>What a run shows while it runs: a live Spectre table on a terminal, a line every two seconds otherwise (on stderr).</summary>
public static class ProgressView
{
    public static async Task RunAsync(string title, LoadMetrics metrics, Func<string> phase, bool live, Task work)
    {
        if (live)
        {
            await AnsiConsole.Live(Render(title, metrics, phase())).StartAsync(async context =>
            {
                while (await Task.WhenAny(work, Task.Delay(500)) != work)
                {
                    context.UpdateTarget(Render(title, metrics, phase()));
                }

                context.UpdateTarget(Render(title, metrics, phase()));
            });
        }
        else
        {
            while (await Task.WhenAny(work, Task.Delay(2000)) != work)
            {
                await Console.Error.WriteLineAsync(Line(title, metrics, phase()));
            }
        }

        await work;
    }

    private static Table Render(string title, LoadMetrics metrics, string phase)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns("phase", "connections", "writes", "deliveries", "requests", "errors");
        table.AddRow(Markup.Escape(phase), N(metrics.Connects), N(metrics.Acked), N(metrics.Deliveries), N(metrics.Requests), N(metrics.ErrorCount));
        return table;
    }

    private static string Line(string title, LoadMetrics metrics, string phase) =>
        $"[{title}] {phase}: connections {metrics.Connects}, writes {metrics.Acked}, deliveries {metrics.Deliveries}, requests {metrics.Requests}, errors {metrics.ErrorCount}";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
