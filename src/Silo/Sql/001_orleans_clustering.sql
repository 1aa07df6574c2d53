-- OrleansVault schema 1: Orleans cluster membership (Microsoft.Orleans.Clustering.AdoNet, invariant Npgsql).
-- Written for OrleansVault against the provider's contract: an OrleansQuery table of named queries that the
-- provider loads at start-up, and the tables those queries use. Identifiers are unquoted (the provider's own
-- start-up query names OrleansQuery, QueryKey and QueryText unquoted). Every compare-and-set is one statement,
-- so it is atomic without functions or explicit transactions (the provider opens none).

CREATE TABLE IF NOT EXISTS orleansquery (
    querykey  varchar(64) PRIMARY KEY,
    querytext text NOT NULL
);

-- One row per cluster (DeploymentId = ClusterId): the membership table's version, bumped by every change.
CREATE TABLE IF NOT EXISTS orleansmembershipversiontable (
    deploymentid varchar(150) PRIMARY KEY,
    timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 0
);

-- One row per silo incarnation (address, port, generation).
CREATE TABLE IF NOT EXISTS orleansmembershiptable (
    deploymentid varchar(150) NOT NULL REFERENCES orleansmembershipversiontable (deploymentid),
    address      varchar(45) NOT NULL,
    port         integer NOT NULL,
    generation   integer NOT NULL,
    siloname     varchar(150) NOT NULL,
    hostname     varchar(150) NOT NULL,
    status       integer NOT NULL,
    proxyport    integer NOT NULL DEFAULT 0,
    suspecttimes text,
    starttime    timestamptz(3) NOT NULL,
    iamalivetime timestamptz(3) NOT NULL,
    PRIMARY KEY (deploymentid, address, port, generation)
);

INSERT INTO orleansquery (querykey, querytext) VALUES
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO orleansmembershipversiontable (deploymentid) VALUES (@DeploymentId)
        ON CONFLICT (deploymentid) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM created
$q$),
-- A silo joins: its row is added and the version bumped together, only if the version is the one the silo read
-- (the version row's lock orders concurrent joins) and the row is new. One column, one row: 1 inserted, 0 not.
('InsertMembershipKey', $q$
    WITH bumped AS (
        UPDATE orleansmembershipversiontable SET version = version + 1, timestamp = now()
        WHERE deploymentid = @DeploymentId AND version = @Version
          AND NOT EXISTS (SELECT 1 FROM orleansmembershiptable
                          WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
        RETURNING deploymentid),
    added AS (
        INSERT INTO orleansmembershiptable (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
        SELECT deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime FROM bumped
        RETURNING 1)
    SELECT count(*)::integer FROM added
$q$),
('UpdateMembershipKey', $q$
    WITH bumped AS (
        UPDATE orleansmembershipversiontable SET version = version + 1, timestamp = now()
        WHERE deploymentid = @DeploymentId AND version = @Version
          AND EXISTS (SELECT 1 FROM orleansmembershiptable
                      WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
        RETURNING deploymentid),
    changed AS (
        UPDATE orleansmembershiptable m
        SET status = @Status, suspecttimes = @SuspectTimes, iamalivetime = @IAmAliveTime
        FROM bumped
        WHERE m.deploymentid = bumped.deploymentid AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        RETURNING 1)
    SELECT count(*)::integer FROM changed
$q$),
('UpdateIAmAlivetimeKey', $q$
    UPDATE orleansmembershiptable SET iamalivetime = @IAmAliveTime
    WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),
-- Reads always return the version row (the provider reads the version from the first row), members joined to it.
('MembershipReadRowKey', $q$
    SELECT v.deploymentid, v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.proxyport,
           m.suspecttimes, m.starttime, m.iamalivetime
    FROM orleansmembershipversiontable v
    LEFT JOIN orleansmembershiptable m
      ON m.deploymentid = v.deploymentid AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    WHERE v.deploymentid = @DeploymentId
$q$),
('MembershipReadAllKey', $q$
    SELECT v.deploymentid, v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.proxyport,
           m.suspecttimes, m.starttime, m.iamalivetime
    FROM orleansmembershipversiontable v
    LEFT JOIN orleansmembershiptable m ON m.deploymentid = v.deploymentid
    WHERE v.deploymentid = @DeploymentId
$q$),
('GatewaysQueryKey', $q$
    SELECT address, proxyport, generation FROM orleansmembershiptable
    WHERE deploymentid = @DeploymentId AND status = @Status AND proxyport > 0
$q$),
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM orleansmembershiptable WHERE deploymentid = @DeploymentId;
    DELETE FROM orleansmembershipversiontable WHERE deploymentid = @DeploymentId
$q$),
-- Rows of silos declared dead (status 6) that have not been alive since the cut-off.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM orleansmembershiptable
    WHERE deploymentid = @DeploymentId AND iamalivetime < @IAmAliveTime AND status = 6
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
