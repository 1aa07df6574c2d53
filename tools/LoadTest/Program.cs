using OrleansVault.LoadTest.Bench;
using OrleansVault.LoadTest.Options;
using OrleansVault.LoadTest.Reporting;
using OrleansVault.LoadTest.Scenarios;

// The OrleansVault load-test tool: `run` one scenario against one target, `bench` our gateway against the
// plain baselines in one run, `worker` is a share of a multi-process run (started by `run` itself), `probe` is one
// native subscriber that reports what it receives (the cluster tests use it).
if (args is ["probe", ..])
{
    try
    {
        return await OrleansVault.LoadTest.Probe.NativeProbe.RunAsync(args, CancellationToken.None);
    }
    catch (ArgumentException error)
    {
        Console.Error.WriteLine($"error: {error.Message}\n\n{OrleansVault.LoadTest.Probe.NativeProbe.Help}");
        return 2;
    }
}

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (UsageException error)
{
    Console.Error.WriteLine(error.Message == "usage" ? Usage.Text : $"error: {error.Message}\n\n{Usage.Text}");
    return 2;
}

if (Console.IsOutputRedirected)
{
    // Logs and CI capture: Spectre would assume 80 columns and fold the tables.
    Spectre.Console.AnsiConsole.Profile.Width = 200;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

switch (options.Command)
{
    case "worker":
        return await LoadRun.WorkAsync(options, stop.Token);
    case "bench":
        return await BenchRunner.RunAsync(options, stop.Token);
    default:
        var result = await LoadRun.RunAsync(options, stop.Token);
        ReportWriter.PrintTable([result]);
        if (options.JsonPath is { } json)
        {
            await ReportWriter.WriteJsonAsync(json, new { results = new[] { result } });
        }

        if (options.CsvPath is { } csv)
        {
            await ReportWriter.WriteCsvAsync(csv, [result]);
        }

        return result.ErrorCount == 0 ? 0 : 1;
}
