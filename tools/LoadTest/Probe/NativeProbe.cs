using System.Text.Json;
using OrleansVault.Client;
using OrleansVault.Protocol;

namespace OrleansVault.LoadTest.Probe;

/// <summary>
/// <c>probe</c>: one native subscriber through OrleansVault.Client that reports, line by line on stdout, what it sees:
/// <c>READY</c>, each <c>EVENT {json}</c>, <c>RECONNECTING</c>/<c>RECONNECTED</c>, and on a <c>STATE</c> line from stdin
/// the object's items (<c>STATE {json}</c>). Tests drive it to prove resume by sequence across gateway and silo kills.
/// </summary>
public static class NativeProbe
{
    public const string Help = """
        probe  one native subscriber reporting its events (for tests)
          --url URL           the gateway or proxy the hub connection uses
          --token-url URL     where to mint the access token (default: --url)
          --project ID --key KEY --secret SECRET --class NAME --id OBJECT
          --hub-protocol json|messagepack
        """;

    private static readonly Lock Output = new();

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        string Need(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"probe needs --{name}");
        var url = new Uri(Need("url"));
        using var http = new HttpClient();
        var token = await Targets.ClientNetwork.MintTokenAsync(http, new Uri(values.GetValueOrDefault("token-url") ?? url.ToString()), Need("project"), Need("key"), Need("secret"), cancellationToken);

        await using var client = await VaultClient.ConnectAsync(
            new VaultClientOptions
            {
                BaseUrl = url,
                ProjectId = Need("project"),
                AccessTokenProvider = _ => Task.FromResult(token),
                Protocol = values.GetValueOrDefault("hub-protocol") == "messagepack" ? VaultProtocol.MessagePack : VaultProtocol.Json,
                ReconnectDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1)],
            },
            cancellationToken);
        client.Reconnecting += _ => Say("RECONNECTING");
        client.Reconnected += () => Say("RECONNECTED");
        var shared = await client.OpenAsync(Need("class"), Need("id"), cancellationToken: cancellationToken);
        shared.EventReceived += (_, e) => Say("EVENT " + JsonSerializer.Serialize(new { kind = e.Kind.ToString(), seq = e.Sequence, epoch = e.Epoch, key = e.Key }));

        // As an application would: a refetch signal means reading the state again.
        shared.RefetchRequired += async (_, _) =>
        {
            try
            {
                var items = await shared.GetAllAsync<JsonElement>(cancellationToken: cancellationToken);
                Say("REFETCHED " + JsonSerializer.Serialize(items.Keys));
            }
            catch (VaultClientException error)
            {
                Say("REFETCH-FAILED " + error.Code);
            }
        };
        Say($"READY {shared.ConnectionId} {shared.LastSequence}");

        while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line == "STATE")
            {
                var items = await shared.GetAllAsync<JsonElement>(cancellationToken: cancellationToken);
                Say("STATE " + JsonSerializer.Serialize(items.ToDictionary(p => p.Key, p => p.Value.Value)));
            }
            else if (line == "QUIT")
            {
                break;
            }
        }

        return 0;
    }

    private static void Say(string line)
    {
        lock (Output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
