// A real PostgreSQL 15 server for the cluster tests: the one VAULT_TEST_POSTGRES names (an Npgsql connection string
// to its maintenance database), or one of this process's own from the machine's binaries (initdb + pg_ctl, as a
// non-root system user when running as root, random port, data in a temp directory), stopped after the file.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, makeTempDir, removeDir } from './gateway.mjs'

const serviceUser = 'ovtest'

/** The directory of the PostgreSQL binaries (pg_ctl, pgbench, …). */
export function binaries () {
  const candidates = [process.env.VAULT_POSTGRES_BIN, '/usr/lib/postgresql/15/bin',
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`) : [])]
  const found = candidates.find((c) => c && existsSync(join(c, 'pg_ctl')))
  if (!found) throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found: install PostgreSQL 15 or set VAULT_POSTGRES_BIN')
  return found
}

function run (command, args, env = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, cwd: '/tmp' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stdout} ${result.stderr}`)
  return result.stdout
}

function parse (connectionString) {
  const fields = Object.fromEntries(connectionString.split(';').filter(Boolean).map((kv) => {
    const at = kv.indexOf('=')
    return [kv.slice(0, at).trim().toLowerCase(), kv.slice(at + 1).trim()]
  }))
  return { host: fields.host, port: fields.port ?? '5432', user: fields.username ?? fields['user id'], password: fields.password }
}

/**
 * Starts (or reuses) a server; `createDatabase()` gives each caller an empty database's Npgsql connection string.
 * `onCleanup` registers the stop (node:test's `after` in tests, a process-exit hook in scripts/cluster.mjs).
 */
export async function postgres ({ onCleanup, dir: baseDir } = {}) {
  let server
  if (process.env.VAULT_TEST_POSTGRES) {
    server = parse(process.env.VAULT_TEST_POSTGRES)
  } else {
    const bin = binaries()
    const dir = baseDir ?? makeTempDir('orleansvault-pg-')
    const password = randomBytes(16).toString('hex')
    writeFileSync(join(dir, 'pw'), password)
    const asRoot = process.getuid?.() === 0
    const pg = (tool, args) => asRoot
      ? run('runuser', ['-u', serviceUser, '--', join(bin, tool), ...args])
      : run(join(bin, tool), args)
    if (asRoot) {
      spawnSync('/bin/sh', ['-c', `id -u ${serviceUser} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin ${serviceUser}`])
      run('chown', ['-R', serviceUser, dir])
    } else {
      chmodSync(dir, 0o700)
    }
    const data = join(dir, 'data')
    pg('initdb', ['-D', data, '-U', 'vault', '--auth=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '-E', 'UTF8', '--no-instructions'])
    const port = await freePort()
    pg('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start'])
    server = { host: '127.0.0.1', port: String(port), user: 'vault', password }
    onCleanup?.(() => {
      try { pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']) } catch {}
      if (!baseDir) removeDir(dir)
    })
  }
  return {
    server,
    createDatabase () {
      const name = `ov_${randomBytes(6).toString('hex')}`
      run('psql', ['-h', server.host, '-p', server.port, '-U', server.user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`], { PGPASSWORD: server.password })
      return `Host=${server.host};Port=${server.port};Username=${server.user};Password=${server.password};Database=${name}`
    },
    /** Runs SQL against a database and returns psql's unaligned output. */
    query (database, sql) {
      return run('psql', ['-h', server.host, '-p', server.port, '-U', server.user, '-d', database, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { PGPASSWORD: server.password })
    }
  }
}
