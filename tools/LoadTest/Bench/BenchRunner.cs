using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OrleansVault.LoadTest.Options;
using OrleansVault.LoadTest.Reporting;
using OrleansVault.LoadTest.Scenarios;
using Spectre.Console;

namespace OrleansVault.LoadTest.Bench;

/// <summary>Starts an embedded gateway and the baselines, runs each benchmark against each, and prints every figure as a ratio to its baseline.</summary>
public static class BenchRunner
{
    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var root = FindRepositoryRoot();
        var gatewayDll = options.GatewayDll ?? Path.Combine(root, "src/Gateway/bin/Release/net10.0/OrleansVault.Gateway.dll");
        var baselinesDll = options.BaselinesDll ?? Path.Combine(root, "tools/Baselines/bin/Release/net10.0/OrleansVault.Baselines.dll");
        foreach (var dll in new[] { gatewayDll, baselinesDll })
        {
            if (!File.Exists(dll))
            {
                await Console.Error.WriteLineAsync($"error: {dll} not found; build first with: dotnet build -c Release");
                return 2;
            }
        }

        var items = BenchPlan.For(options.Size, options.BenchScenarios);
        var results = new List<ScenarioResult>();
        var rows = new List<BenchRow>();
        foreach (var item in items)
        {
            var byTarget = new Dictionary<string, ScenarioResult>(StringComparer.Ordinal);
            for (var repetition = 0; repetition < options.Runs; repetition++)
            {
                foreach (var (target, result) in await RunOnceAsync(item, options, gatewayDll, baselinesDll, cancellationToken))
                {
                    results.Add(result);

                    // On a shared machine interference only ever makes a figure worse: each side keeps its best run.
                    if (!byTarget.TryGetValue(target, out var best) || Better(item, result, best))
                    {
                        byTarget[target] = result;
                    }
                }
            }

            rows.Add(BenchRow.From(item, byTarget));
        }

        ReportWriter.PrintTable(results);
        PrintRows(rows);
        Directory.CreateDirectory(options.OutputDirectory);
        await ReportWriter.WriteJsonAsync(Path.Combine(options.OutputDirectory, "results.json"), new { size = options.Size, machine = Environment.ProcessorCount + " cores", results, benchmarks = rows });
        await ReportWriter.WriteCsvAsync(Path.Combine(options.OutputDirectory, "results.csv"), results);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "summary.md"), Markdown(rows, options.Size));
        return results.All(r => r.ErrorCount == 0) ? 0 : 1;
    }

    private static bool Better(BenchItem item, ScenarioResult candidate, ScenarioResult best) =>
        candidate.ErrorCount != best.ErrorCount
            ? candidate.ErrorCount < best.ErrorCount
            : item.HigherIsBetter ? item.Value(candidate) > item.Value(best) : item.Value(candidate) < item.Value(best);

    /// <summary>One run of a benchmark against each of its targets, on fresh servers: memory and warm caches left by one run must not count for the next.</summary>
    private static async Task<List<(string Target, ScenarioResult Result)>> RunOnceAsync(BenchItem item, LoadOptions options, string gatewayDll, string baselinesDll, CancellationToken cancellationToken)
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var dataDirectory = Path.Combine(Path.GetTempPath(), "ov-bench-" + Guid.NewGuid().ToString("N"));
        await using var gateway = await ServerProcess.StartAsync(gatewayDll, new Dictionary<string, string>
        {
            ["Vault__DataDirectory"] = dataDirectory,
            ["Vault__Bootstrap__ProjectId"] = "bench",
            ["Vault__Bootstrap__ApiKey"] = "bench-key",
            ["Vault__Bootstrap__ApiSecret"] = secret,
            ["Vault__Silo__SiloPort"] = ServerProcess.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Vault__Silo__GatewayPort"] = ServerProcess.FreePort().ToString(CultureInfo.InvariantCulture),

            // A key for this run only (no key file left behind); the load comes from one address, so its rate is not limited.
            ["Vault__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Vault__Limits__RequestsPerSecondPerAddress"] = "0",
            ["Vault__Hub__CallsPerSecond"] = "0",
            ["Vault__Bootstrap__Pusher__AppId"] = "bench",
            ["Vault__Bootstrap__Pusher__Key"] = "bench-pusher-key",
            ["Vault__Bootstrap__Pusher__Secret"] = secret,
        }, "/health/ready", dataDirectory, cancellationToken);
        await using var baselines = await ServerProcess.StartAsync(baselinesDll, new Dictionary<string, string>(), "/health", null, cancellationToken);

        var results = new List<(string, ScenarioResult)>();
        foreach (var target in item.Targets)
        {
            var server = target is "vaultrice" or "pusher" or "native" ? gateway : baselines;
            var run = item.Configure(options with
            {
                Command = "run",
                Target = target,
                Urls = [server.Url],
                ProjectId = "bench",
                ApiKey = target == "pusher" ? "bench-pusher-key" : "bench-key",
                ApiSecret = secret,
                ServerPids = [server.Pid],
                RunId = Guid.NewGuid().ToString("N")[..8],
            });
            var result = await LoadRun.RunAsync(run, cancellationToken) with { Scenario = item.Name };
            results.Add((target, result));
        }

        return results;
    }

    private static void PrintRows(IReadOnlyList<BenchRow> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("benchmark", "measure", "OrleansVault", "baseline", "ratio", "target", "met");
        foreach (var row in rows)
        {
            table.AddRow(Markup.Escape(row.Benchmark), Markup.Escape(row.Measure), ReportWriter.Format(row.Value), Markup.Escape(row.BaselineText),
                ReportWriter.Format(row.Ratio), Markup.Escape(row.Target), row.Met is null ? "-" : row.Met.Value ? "[green]yes[/]" : "[red]no[/]");
        }

        AnsiConsole.Write(table);
    }

    private static string Markdown(IReadOnlyList<BenchRow> rows, string size)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| benchmark ({size}) | measure | OrleansVault | baseline | ratio | target | met |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Benchmark} | {row.Measure} | {ReportWriter.Format(row.Value)} | {row.BaselineText} | {ReportWriter.Format(row.Ratio)} | {row.Target} | {(row.Met is null ? "-" : row.Met.Value ? "yes" : "no")} |");
        }

        return text.ToString();
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrleansVault.sln")))
            {
                return directory.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}

/// <summary>One line of the benchmark table.</summary>
public sealed record BenchRow(string Benchmark, string Measure, double Value, string BaselineText, double? Ratio, string Target, bool? Met)
{
    public static BenchRow From(BenchItem item, IReadOnlyDictionary<string, ScenarioResult> byTarget)
    {
        // The first target is ours (the Vaultrice or the Pusher door); the baseline is named.
        var ours = byTarget[item.Targets[0]];
        var value = item.Value(ours);
        double? ratio = null;
        var baselineText = "-";
        if (item.Baseline is { } baseline && byTarget.TryGetValue(baseline, out var theirs))
        {
            var reference = item.Value(theirs);
            baselineText = $"{ReportWriter.Format(reference)} ({theirs.Target})";
            // A memory figure can come out at or below zero when the runtime returns memory mid-run: no ratio then.
            ratio = reference <= 0 || value <= 0 || double.IsNaN(reference) || double.IsNaN(value) ? null : Math.Round(value / reference, 2);
        }

        bool? met = null;
        if (item.RatioTarget is { } wanted)
        {
            met = ratio is { } r ? (item.HigherIsBetter ? r >= wanted : r <= wanted) : null;
        }

        if (item.AbsoluteTarget is { } absolute)
        {
            met = (met ?? true) && absolute(ours);
        }

        if (ours.ErrorCount > 0)
        {
            met = false;
        }

        return new BenchRow(item.Name, item.Measure, value, baselineText, ratio, item.TargetText, met);
    }
}
