-- OrleansVault schema 4: grain state in a table of our own. Silos write it in batches (many grains' writes in one
-- transaction, sent as one round trip), which the AdoNet provider's one-statement-per-write contract cannot do.
-- payload holds only ciphertext envelopes; version is the state's ETag (every write compares it and adds one).

CREATE TABLE IF NOT EXISTS vault_grain_state (
    service_id  varchar(150) NOT NULL,
    state_name  varchar(512) NOT NULL,
    grain_id    text NOT NULL,
    version     bigint NOT NULL,
    payload     bytea NOT NULL,
    modified_on timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, grain_id)
);

-- States stored through the AdoNet provider (schema 2) move here: the provider's row kept the state name in
-- graintypestring and our key, "ov:{grain id}", in grainidextensionstring. Cleared states (no payload) are not moved:
-- no row means no state.
INSERT INTO vault_grain_state (service_id, state_name, grain_id, version, payload, modified_on)
SELECT serviceid, graintypestring, substr(grainidextensionstring, 4), version, payloadbinary, modifiedon
FROM orleansstorage
WHERE grainidextensionstring LIKE 'ov:%' AND payloadbinary IS NOT NULL
ON CONFLICT (service_id, state_name, grain_id) DO NOTHING;

DELETE FROM orleansstorage WHERE grainidextensionstring LIKE 'ov:%';
