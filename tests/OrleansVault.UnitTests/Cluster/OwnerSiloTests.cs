using System.Net;
using OrleansVault.Grains.Placement;

namespace OrleansVault.UnitTests.Cluster;

/// <summary>
/// The owner function silos place shared objects by and gateways route by: the same answer in every process, spread
/// evenly, and a silo joining or leaving moves only the objects it wins or held.
/// </summary>
public sealed class OwnerSiloTests
{
    private static readonly GrainType ObjectType = GrainType.Create("sharedobject");

    private static SiloAddress Silo(int port, int generation = 100) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    private static GrainId Object(int i) => GrainId.Create(ObjectType, $"p/c/object-{i}");

    [Fact]
    public void No_silos_no_owner() => Assert.Null(OwnerSilo.Of(Object(1), []));

    [Fact]
    public void The_owner_does_not_depend_on_the_order_the_silos_are_listed_in()
    {
        SiloAddress[] silos = [Silo(11111), Silo(11112), Silo(11113)];
        for (var i = 0; i < 500; i++)
        {
            var owner = OwnerSilo.Of(Object(i), silos);
            Assert.Equal(owner, OwnerSilo.Of(Object(i), [.. silos.Reverse()]));
            Assert.Equal(owner, OwnerSilo.Of(Object(i), [silos[1], silos[2], silos[0]]));
        }
    }

    private static readonly int[] Expected = [11112, 11111, 11111, 11111, 11112];

    [Fact]
    public void Known_objects_have_known_owners_so_every_process_agrees()
    {
        // Orleans' stable hashes only, so gateways and silos (and old and new nodes in a rolling upgrade) agree: a change
        // of the function shows here, and then needs a cluster restart rather than a rolling upgrade.
        SiloAddress[] silos = [Silo(11111), Silo(11112)];
        var owners = Enumerable.Range(0, 8).Select(i => OwnerSilo.Of(Object(i), silos)!.Endpoint.Port).ToArray();
        Assert.Equal(Expected, owners[..5]);
    }

    [Fact]
    public void Objects_spread_evenly_over_the_silos()
    {
        SiloAddress[] silos = [Silo(11111), Silo(11112), Silo(11113), Silo(11114)];
        const int Objects = 8000;
        var counts = Enumerable.Range(0, Objects).GroupBy(i => OwnerSilo.Of(Object(i), silos)).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(4, counts.Count);

        // 2,000 expected per silo; a fair spread stays well within ±15%.
        Assert.All(counts.Values, n => Assert.InRange(n, 1700, 2300));
    }

    [Fact]
    public void A_silo_that_joins_takes_only_objects_from_others_and_one_that_leaves_moves_only_its_own()
    {
        SiloAddress[] three = [Silo(11111), Silo(11112), Silo(11113)];
        var joined = Silo(11114);
        SiloAddress[] four = [.. three, joined];
        var moved = 0;
        for (var i = 0; i < 3000; i++)
        {
            var before = OwnerSilo.Of(Object(i), three);
            var after = OwnerSilo.Of(Object(i), four);
            if (!Equals(before, after))
            {
                // Rendezvous hashing: an object changes owner only to the silo that joined.
                Assert.Equal(joined, after);
                moved++;
            }

            // And when that silo leaves again, its objects go back where they were; nobody else's move.
            Assert.Equal(before, OwnerSilo.Of(Object(i), three));
        }

        // About a quarter of the objects move to the fourth silo.
        Assert.InRange(moved, 600, 900);
    }

    [Fact]
    public void A_restarted_silo_is_a_different_silo()
    {
        // Same endpoint, new generation: owners are recomputed for it like for any joining silo, never mixed up.
        SiloAddress[] before = [Silo(11111, 100), Silo(11112, 100)];
        SiloAddress[] after = [Silo(11111, 100), Silo(11112, 200)];
        var owners = Enumerable.Range(0, 200).Select(i => OwnerSilo.Of(Object(i), after)).ToList();
        Assert.All(owners, o => Assert.Contains(o, after));
        Assert.DoesNotContain(owners, o => o!.Generation == 100 && o.Endpoint.Port == 11112);
        Assert.Contains(before[0], Enumerable.Range(0, 200).Select(i => OwnerSilo.Of(Object(i), before)));
    }
}
