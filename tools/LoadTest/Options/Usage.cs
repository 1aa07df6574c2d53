namespace OrleansVault.LoadTest.Options;

/// <summary>The help text.</summary>
public static class Usage
{
    public const string Text = """
        OrleansVault load test

          run    one scenario against one target
          bench  OrleansVault against plain SignalR and plain Kestrel WebSockets, same machine, same run

        run options
          --target vaultrice|native|pusher|plainws|signalr  (default vaultrice; native = the SignalR hub via OrleansVault.Client)
          --url URL[,URL...]                      gateways (round-robin); loopback only unless --allow-non-loopback
          --project ID --key KEY --secret SECRET  vaultrice credentials (pusher: app id, key, secret)
          --class NAME                            class of the objects used (default loadtest)
          --scenario hold|broadcast|objects|http|churn|mixed
          --connections N    idle connections (hold), loops (http, churn)        default 100
          --subscribers N    subscribers of the broadcast object                  default 100
          --objects K --per-object S   small objects and subscribers of each       default 100, 2
          --rate M           writes per second over all objects, 0 = closed loop  default 100
          --in-flight N      most writes waiting for their acknowledgement        default 32
          --duration S --drain S       seconds of load, seconds to wait for stragglers (10, 5)
          --warmup S         seconds of load before measuring, not counted          default 0
          --payload BYTES    size of each published payload                       default 100
          --publish item|message       vaultrice, native: persisted item writes or messages
          --hub-protocol json|messagepack  native: the hub protocol (default json)
          --connect-rate N   new connections per second (0: as fast as possible)
          --workers K        spread the clients over K processes (each holds ~19k sockets)
          --source-ips A,B   loopback source addresses for client sockets (~28k ports each)
          --server-pid PID[,PID...]    read the server's memory and CPU from /proc, summed
                             over the processes (a cluster: every silo and gateway)
          --json FILE --csv FILE       write the report
          --no-live          plain progress lines instead of the live table

        bench options
          --size smoke|full            problem sizes (default full)
          --scenarios a,b,...          broadcast,broadcast-max,objects,latency,hold,http,pusher,pusher-max,native,native-objects,capacity
                                       (default all but capacity and pusher-max)
          --gateway-dll PATH --baselines-dll PATH   default: the Release builds in this repository
          --runs N                     run each benchmark N times on fresh servers, alternating; report
                                       each side's best run (default 1)
          --out DIR                    where results.json, results.csv and summary.md go (artifacts/bench)
        """;
}
