using System.Globalization;
using System.Net;

namespace OrleansVault.LoadTest.Options;

/// <summary>Everything a run is told on the command line (<c>--name value</c> pairs and flags).</summary>
public sealed record LoadOptions
{
    public string Command { get; init; } = "run";

    public string Target { get; init; } = "vaultrice";

    public IReadOnlyList<Uri> Urls { get; init; } = [new Uri("http://127.0.0.1:5000")];

    public string ProjectId { get; init; } = "";

    public string ApiKey { get; init; } = "";

    public string ApiSecret { get; init; } = "";

    public string ClassName { get; init; } = "loadtest";

    public string Scenario { get; init; } = "broadcast";

    /// <summary>Idle connections (hold) or concurrent connect loops (churn).</summary>
    public int Connections { get; init; } = 100;

    /// <summary>Subscribers of the one object (broadcast).</summary>
    public int Subscribers { get; init; } = 100;

    public int Objects { get; init; } = 100;

    public int PerObject { get; init; } = 2;

    /// <summary>Writes per second over all objects; 0 means as fast as <see cref="InFlight"/> allows.</summary>
    public int Rate { get; init; } = 100;

    public int InFlight { get; init; } = 32;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Seconds of load before the measurement starts (JIT, activations, caches), not counted.</summary>
    public TimeSpan Warmup { get; init; }

    /// <summary>How long to wait for deliveries still on their way after the last write.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);

    public int PayloadBytes { get; init; } = 100;

    /// <summary>Vaultrice and native: publish by item writes (persisted) or by messages.</summary>
    public string Publish { get; init; } = "item";

    /// <summary>Native target: the hub protocol, <c>json</c> or <c>messagepack</c>.</summary>
    public string HubProtocol { get; init; } = "json";

    /// <summary>How fast new connections are opened, per second (0: as fast as possible, 256 at a time).</summary>
    public int ConnectRate { get; init; }

    public int Workers { get; init; } = 1;

    public int WorkerIndex { get; init; }

    /// <summary>Names this run's objects, so runs never share state; the coordinator hands it to its workers.</summary>
    public string RunId { get; init; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Loopback source addresses to spread client sockets over (~28k ports each per server address).</summary>
    public IReadOnlyList<IPAddress> SourceAddresses { get; init; } = [];

    public bool AllowNonLoopback { get; init; }

    public string? JsonPath { get; init; }

    public string? CsvPath { get; init; }

    /// <summary>The server's processes (every silo and gateway of a cluster) whose memory and CPU the report sums.</summary>
    public IReadOnlyList<int> ServerPids { get; init; } = [];

    public bool Live { get; init; } = !Console.IsOutputRedirected;

    // bench
    public IReadOnlyList<string> BenchScenarios { get; init; } = ["broadcast", "broadcast-max", "objects", "latency", "hold", "http"];

    public string Size { get; init; } = "full";

    /// <summary>How many times bench repeats each benchmark on fresh servers; each side is reported by its best run.</summary>
    public int Runs { get; init; } = 1;

    public string? GatewayDll { get; init; }

    public string? BaselinesDll { get; init; }

    public string OutputDirectory { get; init; } = "artifacts/bench";

    public static LoadOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            throw new UsageException(null);
        }

        var command = args[0];
        if (command is not ("run" or "bench" or "worker"))
        {
            throw new UsageException($"unknown command '{command}'");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{name}'");
            }

            var flag = name is "--allow-non-loopback" or "--no-live";
            values[name[2..]] = flag ? "true" : i + 1 < args.Length ? args[++i] : throw new UsageException($"{name} needs a value");
        }

        string Get(string key, string fallback) => values.Remove(key, out var v) ? v : fallback;
        int Int(string key, int fallback) => values.Remove(key, out var v)
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new UsageException($"--{key} must be a non-negative integer")
            : fallback;
        TimeSpan Seconds(string key, double fallback) => TimeSpan.FromSeconds(values.Remove(key, out var v)
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 ? d : throw new UsageException($"--{key} must be a number of seconds")
            : fallback);

        var options = new LoadOptions
        {
            Command = command,
            Target = Get("target", "vaultrice"),
            Urls = [.. Get("url", "http://127.0.0.1:5000").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u))],
            ProjectId = Get("project", ""),
            ApiKey = Get("key", ""),
            ApiSecret = Get("secret", ""),
            ClassName = Get("class", "loadtest"),
            Scenario = Get("scenario", "broadcast"),
            Connections = Int("connections", 100),
            Subscribers = Int("subscribers", 100),
            Objects = Int("objects", 100),
            PerObject = Int("per-object", 2),
            Rate = Int("rate", 100),
            InFlight = Math.Max(1, Int("in-flight", 32)),
            Duration = Seconds("duration", 10),
            Drain = Seconds("drain", 5),
            Warmup = Seconds("warmup", 0),
            PayloadBytes = Int("payload", 100),
            Publish = Get("publish", "item"),
            HubProtocol = Get("hub-protocol", "json"),
            ConnectRate = Int("connect-rate", 0),
            Workers = Math.Max(1, Int("workers", 1)),
            WorkerIndex = Int("worker-index", 0),
            RunId = Get("run-id", Guid.NewGuid().ToString("N")[..8]),
            SourceAddresses = ParseAddresses(Get("source-ips", "")),
            AllowNonLoopback = Get("allow-non-loopback", "false") == "true",
            JsonPath = values.Remove("json", out var json) ? json : null,
            CsvPath = values.Remove("csv", out var csv) ? csv : null,
            ServerPids = ParsePids(Get("server-pid", "")),
            Live = Get("no-live", "false") != "true" && !Console.IsOutputRedirected,
            BenchScenarios = [.. Get("scenarios", "broadcast,broadcast-max,objects,latency,hold,http,pusher,native,native-objects").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            Size = Get("size", "full"),
            Runs = Int("runs", 1),
            GatewayDll = values.Remove("gateway-dll", out var gw) ? gw : null,
            BaselinesDll = values.Remove("baselines-dll", out var bl) ? bl : null,
            OutputDirectory = Get("out", "artifacts/bench"),
        };

        if (values.Count > 0)
        {
            throw new UsageException($"unknown option --{values.Keys.First()}");
        }

        options.Validate();
        return options;
    }

    /// <summary>The options of one worker process of a multi-process run, as its command line.</summary>
    public IEnumerable<string> WorkerArguments(int index)
    {
        string Num(double value) => value.ToString(CultureInfo.InvariantCulture);
        return
        [
            "worker",
            "--target", Target,
            "--url", string.Join(',', Urls.Select(u => u.ToString())),
            "--project", ProjectId, "--key", ApiKey, "--secret", ApiSecret,
            "--class", ClassName,
            "--scenario", Scenario,
            "--connections", Num(Connections), "--subscribers", Num(Subscribers),
            "--objects", Num(Objects), "--per-object", Num(PerObject),
            "--rate", Num(Rate), "--in-flight", Num(InFlight),
            "--duration", Num(Duration.TotalSeconds), "--drain", Num(Drain.TotalSeconds), "--warmup", Num(Warmup.TotalSeconds),
            "--payload", Num(PayloadBytes), "--publish", Publish, "--hub-protocol", HubProtocol, "--connect-rate", Num(ConnectRate),
            .. SourceAddresses.Count > 0 ? new[] { "--source-ips", string.Join(',', SourceAddresses) } : [],
            .. AllowNonLoopback ? new[] { "--allow-non-loopback" } : [],
            "--workers", Num(Workers), "--worker-index", Num(index),
            "--run-id", RunId,
            "--no-live",
        ];
    }

    /// <summary>The source addresses this process uses: with several workers, each takes its own share when there are enough.</summary>
    public IReadOnlyList<IPAddress> SourcesForThisProcess() =>
        Workers > 1 && SourceAddresses.Count >= Workers
            ? [.. SourceAddresses.Where((_, i) => i % Workers == WorkerIndex)]
            : SourceAddresses;

    private void Validate()
    {
        if (Target is not ("vaultrice" or "native" or "pusher" or "plainws" or "signalr"))
        {
            throw new UsageException("--target is vaultrice, native, pusher, plainws or signalr");
        }

        if (HubProtocol is not ("json" or "messagepack"))
        {
            throw new UsageException("--hub-protocol is json or messagepack");
        }

        if (Scenario is not ("hold" or "broadcast" or "objects" or "http" or "churn" or "mixed"))
        {
            throw new UsageException("--scenario is hold, broadcast, objects, http, churn or mixed");
        }

        if (Publish is not ("item" or "message"))
        {
            throw new UsageException("--publish is item or message");
        }

        if (Runs is < 1 or > 20)
        {
            throw new UsageException("--runs is between 1 and 20");
        }

        if (Command == "run" && Target is "vaultrice" or "native" or "pusher" && (ProjectId.Length == 0 || ApiKey.Length == 0 || ApiSecret.Length == 0))
        {
            throw new UsageException("the vaultrice, native and pusher targets need --project, --key and --secret (pusher: the app id, key and secret)");
        }

        if (!AllowNonLoopback)
        {
            foreach (var url in Urls)
            {
                if (!IsLoopback(url))
                {
                    throw new UsageException($"{url} is not a loopback address; load tests target this machine only unless --allow-non-loopback is given");
                }
            }

            if (SourceAddresses.Any(a => !IPAddress.IsLoopback(a)))
            {
                throw new UsageException("--source-ips must be loopback addresses");
            }
        }
    }

    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static List<int> ParsePids(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p =>
            int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : throw new UsageException($"--server-pid: '{p}' is not a process id"))];

    private static List<IPAddress> ParseAddresses(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a =>
            IPAddress.TryParse(a, out var address) ? address : throw new UsageException($"'{a}' is not an IP address"))];
}

/// <summary>A command line that cannot run; the message says why.</summary>
public sealed class UsageException(string? message) : Exception(message ?? "usage");
